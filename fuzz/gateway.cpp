// Gateway answers: the classification of an HTTP result (status from the
// first two bytes, the rest is the body).

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "gateway/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zaki::http_result res;
  if (size >= 2) {
    // 100..611: every class, and the odd ones around them.
    res.status = 100 + ((data[0] << 8 | data[1]) % 512);
    data += 2;
    size -= 2;
  }
  res.body.assign(reinterpret_cast<const char*>(data), size);
  auto body = res.body;
  auto answer = zaki::classify_gateway_result(res);
  using zaki::gateway_outcome;
  if (answer.outcome == gateway_outcome::answered)
    ZAKI_FUZZ_CHECK(res.status >= 200 && res.status < 300);
  else
    ZAKI_FUZZ_CHECK(answer.content.empty());
  // The classifier may pad the body but must leave its text alone.
  ZAKI_FUZZ_CHECK(res.body.size() >= body.size()
                  && res.body.compare(0, body.size(), body) == 0);
  return 0;
}
