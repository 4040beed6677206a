# cmake -DFILE=path -DLIMIT=bytes -P ReportSize.cmake
file(SIZE "${FILE}" size)
math(EXPR kib "${size} / 1024")
math(EXPR limit_kib "${LIMIT} / 1024")
if(size GREATER LIMIT)
    message(WARNING "bpfleet-agent stripped size ${kib} KiB is over the ${limit_kib} KiB target")
else()
    message(STATUS "bpfleet-agent stripped size: ${kib} KiB (target <= ${limit_kib} KiB)")
endif()
