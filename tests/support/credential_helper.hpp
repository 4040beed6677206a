// A docker credential helper for tests: the text of a `docker-credential-NAME`
// shell script speaking the helper protocol. It appends "ARG SERVER" for each
// call to `log`, answers `server` with alice / `secret`, and says
// "credentials not found" (exit 1) for any other server.
#pragma once

#include <string>

namespace bpfleet::test {

inline std::string credential_helper_script(const std::string& server, const std::string& secret,
                                            const std::string& log) {
    return "#!/bin/sh\nserver=$(cat)\necho \"$1 $server\" >> " + log + "\nif [ \"$server\" = '" +
           server +
           "' ]; then\n  printf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"" +
           secret +
           "\"}' \"$server\"\nelse\n  echo 'credentials not found in native keychain'; exit "
           "1\nfi\n";
}

} // namespace bpfleet::test
