/* The lab's objects are built for x86, arm64 and arm (32-bit); each carries
 * its target in .rodata, so the architectures' objects differ and a report's
 * object digest shows which one a host ran. */
#pragma once

#if defined(__TARGET_ARCH_x86)
#define LAB_TARGET "x86"
#elif defined(__TARGET_ARCH_arm64)
#define LAB_TARGET "arm64"
#elif defined(__TARGET_ARCH_arm)
#define LAB_TARGET "arm"
#else
#error "build with -D__TARGET_ARCH_x86, _arm64 or _arm"
#endif

const volatile char lab_target[8] = LAB_TARGET;
