#include "messages/types.hpp"

namespace zaki {

const char* to_string(http_failure x) {
  switch (x) {
    case http_failure::none: return "none";
    case http_failure::connect: return "connect";
    case http_failure::timeout: return "timeout";
    case http_failure::closed: return "closed";
    case http_failure::too_large: return "too_large";
    case http_failure::tls: return "tls";
    case http_failure::cancelled: return "cancelled";
    case http_failure::interrupted: return "interrupted";
    default: return "other";
  }
}

const char* to_string(inbound_kind x) {
  static constexpr const char* names[] = {
    "text",    "photo",    "document", "audio", "video", "voice",
    "sticker", "location", "contact",  "poll",  "dice",
  };
  auto i = static_cast<size_t>(x);
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "other";
}

} // namespace zaki

#include "messages/errors.hpp"

namespace zaki {

const char* to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::not_provisioned: return "not_provisioned";
    case errc::container_starting: return "container_starting";
    case errc::container_down: return "container_down";
    case errc::container_failed: return "container_failed";
    case errc::capacity_exhausted: return "capacity_exhausted";
    case errc::backend_unavailable: return "backend_unavailable";
    case errc::session_lock_timeout: return "session_lock_timeout";
    default: return "internal";
  }
}

} // namespace zaki
