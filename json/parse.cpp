#include "json/parse.hpp"

namespace zaki {

simdjson::ondemand::parser& thread_ondemand_parser() {
  // One per thread (the I/O thread and the CAF workers): a parser keeps its
  // buffers between documents, which is what makes reuse cheap.
  thread_local simdjson::ondemand::parser parser{16 << 20};
  return parser;
}

simdjson::dom::parser& thread_dom_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

void pad_for_simdjson(std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
}

} // namespace zaki
