// The Markdown -> Telegram HTML renderer: for any input, the HTML must pass
// the Telegram HTML checker, and every chunk must fit a message. The first
// byte picks the chunk limit, so that splitting (fences cut and reopened,
// halving for escaped code) is reached with small inputs too.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "telegram/html.hpp"
#include "telegram/markdown.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t limit = zaki::markdown_chunk_limit;
  if (size > 0) {
    limit = data[0] == 0xff ? zaki::markdown_chunk_limit
                            : size_t{8} + data[0] * size_t{4};
    ++data;
    --size;
  }
  std::string_view md{reinterpret_cast<const char*>(data), size};
  auto html = zaki::markdown_to_telegram_html(md);
  ZAKI_FUZZ_CHECK(zaki::is_balanced_telegram_html(html));
  for (auto& chunk : zaki::markdown_to_telegram_chunks(md, limit)) {
    if (chunk.html) {
      ZAKI_FUZZ_CHECK(zaki::is_balanced_telegram_html(chunk.text));
      ZAKI_FUZZ_CHECK(zaki::html_fits(chunk.text));
      ZAKI_FUZZ_CHECK(zaki::utf16_length(chunk.text) <= 4096);
    } else {
      ZAKI_FUZZ_CHECK(zaki::utf16_length(chunk.text) <= 4096);
    }
  }
  // Escaped text is always acceptable HTML.
  ZAKI_FUZZ_CHECK(zaki::is_balanced_telegram_html(zaki::html_escape(md)));
  return 0;
}
