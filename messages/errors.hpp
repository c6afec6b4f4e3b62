#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace zaki {

/// Error codes that cross actor boundaries (as caf::error of category
/// "zaki"). The user-facing texts live in runtime/error_catalogue.hpp.
enum class errc : uint8_t {
  none = 0,
  /// The user has no container and the backend does not provision (static).
  not_provisioned,
  /// The container is starting and not ready within the wait.
  container_starting,
  /// The container is down (stopped, crashed) and could not be started.
  container_down,
  /// The container exceeded its restart intensity and is marked failed.
  container_failed,
  /// The configured maximum number of containers is reached.
  capacity_exhausted,
  /// The container backend (Docker daemon, ...) does not answer.
  backend_unavailable,
  /// The user's session lock is held by another live process.
  session_lock_timeout,
  /// Anything else.
  internal,
};

/// The category atom of zaki errors.
constexpr caf::atom_value error_category = caf::atom("zaki");

/// Returns a short name of `x`, e.g. "container_failed".
const char* to_string(errc x);

/// Creates a caf::error with a human-readable context (never a secret).
inline caf::error make_error(errc code, std::string context = {}) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(context))};
}

/// Returns the zaki code of `err`, or `errc::internal` for foreign errors.
inline errc code_of(const caf::error& err) {
  if (err.category() != error_category)
    return errc::internal;
  return static_cast<errc>(err.code());
}

} // namespace zaki
