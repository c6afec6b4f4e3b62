// Streamed gateway answers: the incremental SSE reader and the chunk
// decoder behind gateway_stream (gateway/sse, gateway/stream_reader). The
// first byte picks the size of the pieces the body arrives in (1 to 64
// bytes) and the event size limit (64 bytes to 16 KiB, or 1 MiB); the rest
// is the body.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "gateway/sse.hpp"
#include "gateway/stream_reader.hpp"

namespace {

std::vector<std::string> read_events(std::string_view body, size_t piece,
                                     size_t limit, bool& overflowed) {
  std::vector<std::string> out;
  zaki::sse_reader reader{limit};
  auto on_event = [&](std::string_view data) {
    // An event never exceeds the limit it was read under.
    ZAKI_FUZZ_CHECK(data.size() <= limit);
    out.emplace_back(data);
  };
  for (size_t i = 0; i < body.size(); i += piece)
    if (!reader.feed(body.substr(i, piece), on_event))
      break;
  overflowed = reader.overflowed();
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  size_t piece = 1 + (data[0] & 0x3F);
  size_t limit = (data[0] & 0xC0) == 0xC0 ? size_t{1} << 20
                                          : size_t{64} << (data[0] >> 6) * 4;
  std::string_view body{reinterpret_cast<const char*>(data) + 1, size - 1};
  // The events do not depend on how the bytes were cut, as long as no
  // event overflowed (which stops the reader wherever the cut fell).
  bool whole_over = false;
  bool split_over = false;
  auto whole = read_events(body, body.size() + 1, limit, whole_over);
  auto split = read_events(body, piece, limit, split_over);
  ZAKI_FUZZ_CHECK(whole_over == split_over);
  if (!whole_over)
    ZAKI_FUZZ_CHECK(whole == split);
  // Error and malformed chunks may carry content (gateway_stream ignores
  // it, checked below through the text handed over); [DONE] carries none.
  for (auto& event : whole) {
    auto chunk = zaki::decode_stream_chunk(event);
    if (chunk.kind == zaki::stream_chunk::done)
      ZAKI_FUZZ_CHECK(chunk.content.empty());
  }
  // The text handed over (at once or by take) is the text received, and
  // an answer carries exactly that text.
  zaki::gateway_stream stream{limit};
  stream.urgent_at(30);
  std::string shown;
  bool aborted = false;
  for (size_t i = 0; i < body.size() && !aborted; i += piece) {
    std::string delta;
    aborted = !stream.feed(body.substr(i, piece), delta);
    shown += delta;
    if (i % (3 * piece) == 0)
      stream.take(shown);
  }
  stream.take(shown);
  ZAKI_FUZZ_CHECK(shown.size() == stream.received());
  zaki::http_result res;
  res.status = 200;
  auto answer = stream.finish(res);
  if (answer.outcome == zaki::gateway_outcome::answered && !shown.empty())
    ZAKI_FUZZ_CHECK(answer.content == shown);
  return 0;
}
