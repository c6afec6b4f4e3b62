#pragma once

#include <string>

#include <simdjson.h>

namespace zaki {

/// Returns the calling thread's on-demand parser, capped at 16 MiB: a larger
/// document fails with CAPACITY instead of growing memory without bound.
/// A document iterated with it is valid until the thread's next `iterate`.
simdjson::ondemand::parser& thread_ondemand_parser();

/// Returns the calling thread's DOM parser, for small documents that are
/// validated as a whole (status details, lock files, admin answers). An
/// element taken from it is valid until the thread's next `parse`.
simdjson::dom::parser& thread_dom_parser();

/// Makes room for simdjson's padding after the end of `body`, so that the
/// on-demand parser reads it in place without a copy.
void pad_for_simdjson(std::string& body);

} // namespace zaki
