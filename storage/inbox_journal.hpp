#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "messages/types.hpp"

namespace zaki {

/// Journal lines of a batch of accepted messages, and their update ids.
struct journal_batch {
  std::string lines;
  std::vector<int64_t> ids;
};

/// The router's inbox on disk: every update the poller hands over is
/// appended (and fdatasync'ed) before its offset is confirmed to Telegram,
/// and marked done once its reply went out. After a crash or a shutdown
/// whose grace ran out, the next start replays what is not done, so a
/// confirmed update is never lost with the process.
///
/// Format: one JSON object per line, `{"a":...}` for an accepted message
/// and `{"d":update_id}` for a finished one; a torn last line is ignored.
/// Not thread-safe: one `journal_worker` thread owns it.
class inbox_journal {
public:
  /// Opens or creates the journal at `path` (mode 0600) and reads what is
  /// pending. Takes an exclusive flock so that two routers never share one
  /// journal. Returns nullptr and sets `error` on failure.
  static std::unique_ptr<inbox_journal> open(const std::string& path,
                                             std::string& error);

  ~inbox_journal();

  /// Returns the messages accepted but not done, in update order (read
  /// back from the file: the journal keeps only their ids in memory).
  std::vector<inbound_message> pending() const;

  /// Appends a batch and syncs it to disk.
  bool append(const inbound_batch& batch, std::string& error);

  /// As above, for a batch encoded with `encode_journal_batch` (the router
  /// encodes on its I/O thread, so no copy of the messages crosses over).
  bool append(const journal_batch& batch, std::string& error);

  /// Marks a message done (not synced: a lost mark only replays a message
  /// that was answered, never loses one).
  bool mark_done(int64_t update_id, std::string& error);

  /// Marks several messages done with one write (not synced either).
  bool mark_done(const std::vector<int64_t>& update_ids, std::string& error);

  /// Returns the number of pending messages.
  size_t pending_count() const {
    return pending_.size();
  }

private:
  inbox_journal(std::string path, int fd);

  static bool write_all(int fd, std::string_view text, const std::string& path,
                        std::string& error);
  static size_t parse_journal(std::string_view content,
                              std::map<int64_t, inbound_message>& out);
  bool read_all(std::string& content, std::string& error) const;
  /// Rewrites the file with only the accepted lines of pending messages.
  bool compact(std::string& error);

  std::string path_;
  int fd_ = -1;
  /// Update ids accepted and not done; their lines are in the file.
  std::unordered_set<int64_t> pending_;
  size_t lines_ = 0;
};

/// Appends the journal line of an accepted message to `out`.
void append_journal_entry(const inbound_message& msg, std::string& out);

/// Returns the journal line of an accepted message.
std::string encode_journal_entry(const inbound_message& msg);

/// Encodes a batch as its journal lines.
journal_batch encode_journal_batch(const inbound_batch& batch);

/// Applies one journal line to `pending`; returns false for a line that
/// does not parse (a torn write).
bool apply_journal_line(std::string line,
                        std::map<int64_t, inbound_message>& pending);

/// Runs journal I/O on a thread of its own, so that fdatasync never blocks
/// an actor. Tasks run in order; `stop` finishes queued tasks first.
class journal_worker {
public:
  journal_worker();
  ~journal_worker();

  /// Queues a task.
  void post(std::function<void()> task);

  /// Runs the queued tasks and joins the thread.
  void stop();

private:
  void run();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace zaki
