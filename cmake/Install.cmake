# `cmake --install`: bpfleet in bin/, every agent in lib/bpfleet/ARCH/ (the
# native one here, the cross-built ones in AgentCross.cmake) and the lab's
# scripts in share/bpfleet/lab/. bpfleet finds the agents and the scripts
# relative to its own path (../lib/bpfleet, never a multiarch libdir), so the
# installed tree can be moved as a whole.

if(BPFLEET_AGENT_ONLY OR CMAKE_CROSSCOMPILING)
    return()
endif()

install(TARGETS bpfleet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT controller)
# The native agent, stripped as it is shipped; also in bin/ to be run by hand.
install(PROGRAMS $<TARGET_FILE:bpfleet-agent>.stripped
        DESTINATION lib/bpfleet/${CMAKE_SYSTEM_PROCESSOR}
        RENAME bpfleet-agent
        COMPONENT agents)
install(PROGRAMS $<TARGET_FILE:bpfleet-agent>.stripped
        DESTINATION ${CMAKE_INSTALL_BINDIR}
        RENAME bpfleet-agent
        COMPONENT agents)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/lab/debian-fetch.sh
                 ${PROJECT_SOURCE_DIR}/scripts/lab/lab-image.sh
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bpfleet/lab
        COMPONENT controller)
