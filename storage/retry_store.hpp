#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zaki {

// The Retry button of an error message re-sends the user's original text.
// That text is kept on disk, not in memory, so the button still works after
// the user actor stopped idle or the router restarted: one small file per
// request id, `{data_root}/users/user-{id}/.zaki-retry/{request id}.json`,
// written like users.json (temp file, fsync, rename, fsync of the dir, mode
// 0600) and never through a symlink. Files older than the window are removed
// when they are read or when a new one is written.

/// The original message behind a Retry button.
struct retry_record {
  /// Owner: the Telegram user who sent the message.
  int64_t user_id = 0;
  /// Where the message came from (the private chat of the user).
  int64_t chat_id = 0;
  /// The request id shown in the error (the button's callback data).
  std::string request_id;
  /// The user's original text.
  std::string text;
  /// Wall-clock time of the failure, in seconds since the epoch.
  int64_t created_at = 0;
  /// The callback query that used the button, empty while unused. Kept so
  /// that a press replayed after a crash (same callback id) still re-sends,
  /// while a second press does not.
  std::string used_by;
};

/// @relates retry_record
bool operator==(const retry_record& x, const retry_record& y);

/// Returns the file content of `rec` (one JSON object).
std::string encode_retry_record(const retry_record& rec);

/// Parses a file written by encode_retry_record; nullopt for anything else
/// (wrong shape, invalid request id or user id, missing text). Never throws.
std::optional<retry_record> decode_retry_record(std::string text);

/// Outcome of `retry_store::take`.
enum class retry_take_status : uint8_t {
  /// First use (or the replay of the press that used it): re-send `record`.
  ok,
  /// Another press used it already: do not re-send.
  already_used,
  /// Older than the window, or unknown: the text is gone.
  expired,
  /// The user's data dir does not exist (the user was removed).
  no_user,
  /// The file system failed; `error` says how.
  error,
};

/// Returns a short name for logs, e.g. "already_used".
const char* to_string(retry_take_status x);

/// The answer of `retry_store::take`.
struct retry_take_result {
  retry_take_status status = retry_take_status::error;
  retry_record record;
  std::string error;
};

/// Keeps the originals of failed messages for `window`. Cheap to create;
/// holds no descriptor between calls. Not thread-safe per user: only that
/// user's actor calls it.
class retry_store {
public:
  using wall_clock = std::chrono::system_clock;

  /// Creates a store under `data_root` keeping records for `window`.
  retry_store(std::string data_root, std::chrono::seconds window);

  /// Writes `rec` (creating the user's dirs) and removes expired records of
  /// the same user. Returns an error text, or an empty string on success.
  std::string save(const retry_record& rec);

  /// Marks the record of `request_id` used by the callback query `taker`
  /// (durably, before answering ok) and returns it. `user_id` is the
  /// pressing user: only their own dir is searched, so someone else's
  /// request id is simply unknown there.
  retry_take_result take(int64_t user_id, std::string_view request_id,
                         std::string_view taker);

  /// Like `take`, at wall-clock time `now` (seconds since the epoch).
  retry_take_result take(int64_t user_id, std::string_view request_id,
                         std::string_view taker, int64_t now);

  /// Removes the records of `user_id` older than the window at `now`;
  /// returns how many were removed.
  size_t prune(int64_t user_id, int64_t now);

  /// Returns the current wall-clock time in seconds since the epoch.
  static int64_t now_seconds();

private:
  std::string data_root_;
  std::chrono::seconds window_;
};

} // namespace zaki
