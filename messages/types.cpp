#include "messages/types.hpp"

namespace zaki {

const char* to_string(http_failure x) {
  switch (x) {
    case http_failure::none:
      return "none";
    case http_failure::connect:
      return "connect";
    case http_failure::timeout:
      return "timeout";
    case http_failure::closed:
      return "closed";
    case http_failure::too_large:
      return "too_large";
    case http_failure::tls:
      return "tls";
    case http_failure::cancelled:
      return "cancelled";
    default:
      return "other";
  }
}

} // namespace zaki
