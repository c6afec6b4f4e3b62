#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "messages/types.hpp"

namespace zaki {

/// Statuses of a fetch that failed on our side or was refused before any
/// byte was stored (`http_result::status`); Bot API statuses pass through.
namespace fetch_status {
/// The file is larger than the limit (getFile's size, or the body).
constexpr int too_large = 413;
/// getFile answered a path that is not a plain relative path.
constexpr int forged_path = 422;
/// Writing the file failed (disk full, permissions): nothing was kept.
constexpr int save_failed = 507;
/// Saving the file would exceed the user's storage quota: nothing was kept.
constexpr int over_quota = 509;
} // namespace fetch_status

/// What to fetch and where to put it.
struct fetch_request {
  /// `telegram.api_root`, e.g. https://api.telegram.org.
  std::string api_root;
  /// The bot token (a secret: only ever in request targets, never logged).
  std::string token;
  std::string file_id;
  uint64_t max_bytes = 10 << 20;
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  /// Empty: the bytes are returned in `http_result::body`. Otherwise the
  /// directory the file is saved in (created), under `save_name`; the body
  /// then holds the final file name (a suffix is added if taken).
  std::string save_dir;
  std::string save_name;
  /// The user's storage quota in bytes (0: none), counted over every file
  /// below `quota_dir` (the user's data dir) plus the new one.
  uint64_t quota_bytes = 0;
  std::string quota_dir;
};

/// Returns the bytes of the regular files below `dir` (symlinks are not
/// followed; unreadable parts count as empty).
uint64_t dir_size(const std::string& dir);

/// Fetches a file the way the Bot API serves them: getFile for its path,
/// then `{api_root}/file/bot{token}/{file_path}`, on the I/O threads, with
/// at most `max_concurrent` fetches of the process at once (others wait).
/// Only the path getFile returned is fetched, and only when it is a plain
/// relative path. `done` runs once on an I/O thread; `status` 200 is
/// success, anything else failure (0 with `failure` set below HTTP).
void fetch_file(boost::asio::io_context& ioc,
                std::shared_ptr<boost::asio::ssl::context> tls,
                fetch_request req, uint64_t max_concurrent,
                std::function<void(http_result)> done);

/// Returns whether getFile's `file_path` may be fetched: relative, without
/// `..`, query, fragment, escapes or control characters.
bool safe_file_path(std::string_view path);

/// Saves `bytes` as `dir/name` through a temporary name and a rename, so a
/// failure leaves nothing half-written; a taken name gets `-1`, `-2`, ...
/// before its extension. Returns the final name, or empty with `error` set.
std::string save_file_atomically(const std::string& dir,
                                 const std::string& name,
                                 std::string_view bytes, std::string& error);

/// Returns `bytes` in base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

} // namespace zaki
