#include "lab/kernels.hpp"

#include <algorithm>

namespace bpfleet::lab {
namespace {

// amd64 and arm64 look in bullseye (5.10) and bookworm with its security
// suite (6.12 is only there); armhf in bookworm alone, whose armmp-lpae kernel
// is built without CONFIG_DEBUG_INFO_BTF like many boards' vendor kernels.
constexpr std::string_view kSuites64 = "bookworm bookworm-security bullseye";

} // namespace

const std::vector<LabKernel>& lab_kernels() {
    static const std::vector<LabKernel> kernels = {
        {"5.10-amd64", "5.10", "amd64", "x86_64",
         R"(linux-image-5\.10\.0-[0-9]+-cloud-amd64-unsigned)", kSuites64, "qemu-system-x86_64", "",
         "max", "ttyS0"},
        {"6.1-amd64", "6.1", "amd64", "x86_64",
         R"(linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned)", kSuites64, "qemu-system-x86_64", "",
         "max", "ttyS0"},
        {"6.12-amd64", "6.12", "amd64", "x86_64",
         R"(linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned)", kSuites64,
         "qemu-system-x86_64", "", "max", "ttyS0"},
        {"5.10-arm64", "5.10", "arm64", "aarch64",
         R"(linux-image-5\.10\.0-[0-9]+-cloud-arm64-unsigned)", kSuites64, "qemu-system-aarch64",
         "virt", "cortex-a57", "ttyAMA0"},
        {"6.1-arm64", "6.1", "arm64", "aarch64",
         R"(linux-image-6\.1\.0-[0-9]+-cloud-arm64-unsigned)", kSuites64, "qemu-system-aarch64",
         "virt", "cortex-a57", "ttyAMA0"},
        {"6.1-armhf", "6.1", "armhf", "armv7l", R"(linux-image-6\.1\.0-[0-9]+-armmp-lpae)",
         "bookworm", "qemu-system-arm", "virt", "cortex-a15", "ttyAMA0"},
    };
    return kernels;
}

const LabKernel* find_lab_kernel(std::string_view name) {
    for (const auto& k : lab_kernels()) {
        if (k.name == name) {
            return &k;
        }
    }
    return nullptr;
}

std::string lab_kernel_names() {
    std::string out;
    for (const auto& k : lab_kernels()) {
        out += (out.empty() ? "" : ", ") + std::string(k.name);
    }
    return out;
}

Result<std::vector<const LabKernel*>> parse_kernel_list(std::string_view text) {
    std::vector<const LabKernel*> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t end = text.find_first_of(", ", i);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view name = text.substr(i, end - i);
        i = end + 1;
        if (name.empty()) {
            continue;
        }
        const LabKernel* kernel = find_lab_kernel(name);
        if (kernel == nullptr) {
            return make_error("usage",
                              "unknown lab kernel '" + std::string(name.substr(0, 60)) +
                                  "' (known: " + lab_kernel_names() + ")",
                              0, "--kernels");
        }
        if (std::find(out.begin(), out.end(), kernel) == out.end()) {
            out.push_back(kernel);
        }
    }
    if (out.empty()) {
        for (const auto& k : lab_kernels()) {
            out.push_back(&k);
        }
    }
    return out;
}

std::string vm_name(const LabKernel& kernel) {
    return "lab-" + std::string(kernel.name);
}

} // namespace bpfleet::lab
