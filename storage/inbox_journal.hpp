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

/// Progress of a pending message's reply: `chunks_sent` chunks confirmed
/// (when non-zero) and its streamed preview (when non-zero).
struct journal_mark {
  int64_t update_id = 0;
  uint32_t chunks_sent = 0;
  int64_t preview_message_id = 0;
};

/// The router's inbox on disk: every update the poller hands over is
/// appended (and fdatasync'ed) before its offset is confirmed to Telegram,
/// and marked done once its reply went out. After a crash or a shutdown
/// whose grace ran out, the next start replays what is not done, so a
/// confirmed update is never lost with the process.
///
/// Format: one JSON object per line, `{"a":...}` for an accepted message
/// and `{"d":update_id}` for a finished one; a torn last line is ignored.
/// Between the two, `{"w":update_id,"x":"answer"}` records the gateway's
/// answer before it goes to Telegram, `{"s":update_id,"k":n}` says that
/// Telegram confirmed its first n chunks and `{"p":update_id,"i":m}` that
/// its streamed preview is message m: a replay re-sends only what was not
/// confirmed, without asking the assistant again. These are written, not
/// synced: they survive the process (a crash, SIGKILL) in the page cache,
/// and a power loss only costs a duplicate, never a message.
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

  /// Records the answer of a pending message (not synced, see above).
  bool record_answer(int64_t update_id, std::string_view answer,
                     std::string& error);

  /// Writes progress marks of pending messages with one write (not synced);
  /// marks of messages done meanwhile are dropped.
  bool mark_progress(const std::vector<journal_mark>& marks,
                     std::string& error);

  /// Returns the bytes written since the last compaction.
  uint64_t bytes_since_compaction() const {
    return bytes_;
  }

  /// Returns the number of pending messages.
  size_t pending_count() const {
    return pending_.size();
  }

private:
  inbox_journal(std::string path, int fd);

  /// Writes `text` (lines), counts them and compacts when the file holds
  /// too much beyond the pending messages.
  bool write_lines(std::string_view text, size_t lines, std::string& error);
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
  /// Bytes appended since the last compaction (answers make lines long).
  uint64_t bytes_ = 0;
};

/// Appends the journal line of a recorded answer to `out`.
void append_answer_entry(int64_t update_id, std::string_view answer,
                         std::string& out);

/// Appends the journal line(s) of a progress mark to `out`; returns how
/// many.
size_t append_mark_entry(const journal_mark& mark, std::string& out);

/// Decodes journal text (a whole file): the messages accepted and not done,
/// with their recorded answers and progress. A torn last line is ignored.
std::map<int64_t, inbound_message> decode_journal(std::string_view content);

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
