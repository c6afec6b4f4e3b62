// Docker Engine API answers: inspect, list, event lines and error bodies.

#include <cstddef>
#include <cstdint>
#include <string>

#include "containers/docker_json.hpp"
#include "fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  zaki::container_info info;
  zaki::parse_docker_inspect(text, info);
  zaki::parse_docker_list(text);
  if (auto ev = zaki::parse_docker_event(text))
    ZAKI_FUZZ_CHECK(!ev->action.empty());
  zaki::docker_error_message(text);
  return 0;
}
