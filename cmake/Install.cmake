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

# Man pages and shell completions, generated at build time from the command
# lines (controller/CMakeLists.txt, bpfleet-docs), where man, bash-completion
# and zsh look for them.
set(BPFLEET_DOCS_DIR ${CMAKE_BINARY_DIR}/docs-generated) # as controller/CMakeLists.txt makes it
install(FILES ${BPFLEET_DOCS_DIR}/man/bpfleet.1 ${BPFLEET_DOCS_DIR}/man/bpfleet-agent.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT controller)
install(FILES ${BPFLEET_DOCS_DIR}/bash/bpfleet ${BPFLEET_DOCS_DIR}/bash/bpfleet-agent
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        COMPONENT controller)
install(FILES ${BPFLEET_DOCS_DIR}/zsh/_bpfleet ${BPFLEET_DOCS_DIR}/zsh/_bpfleet-agent
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
        COMPONENT controller)

# `cpack -G DEB` (in the build folder): one bpfleet_VERSION_ARCH.deb with the
# controller, every agent it deploys, the lab's scripts, the man pages and the
# completions, installed under /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bpfleet)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "bpfleet maintainers <bpfleet@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "do these eBPF programs load, attach and run on our machines?")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The controller's shared libraries (the agents are static and foreign
# binaries, which dpkg-shlibdeps cannot read: the list is given).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libbpf1, libelf1, libssh-4, libcurl4, libarchive13, libspdlog1.10, libfmt9, libssl3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qemu-system-x86, qemu-system-arm, dwarves")
include(CPack)
