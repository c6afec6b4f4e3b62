#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "messages/types.hpp"
#include "storage/inbox_journal.hpp"

namespace zaki {

/// Remembers the most recent update ids: Telegram may deliver an update
/// twice (a confirmation lost with a restart), and a replayed journal
/// overlaps what the poller fetches again.
class seen_window {
public:
  explicit seen_window(size_t capacity = 100000) : capacity_(capacity) {
    // nop
  }

  /// Returns false for an id seen before, else remembers it.
  bool insert(int64_t update_id);

  size_t size() const {
    return seen_.size();
  }

private:
  size_t capacity_;
  std::unordered_set<int64_t> seen_;
  std::deque<int64_t> order_;
};

/// The router's inbox: accepted updates go to the journal on a thread of
/// its own before the poller may confirm them, and finished ones are
/// marked done, collected so that many marks cost one write. Without a
/// journal (disabled, or it cannot be opened) every call is a no-op and
/// batches count as written at once. Not thread-safe: the owning actor
/// calls it; only the journal work runs on the worker.
class inbox {
public:
  /// Called on the worker thread once a batch is on disk.
  using written_fn = std::function<void()>;

  /// Runs without a journal.
  inbox() = default;

  /// Opens `{data_root}/inbox.journal` (creating the directory). On
  /// failure, runs without a journal and sets `error`.
  static inbox open(const std::string& data_root, std::string& error);

  inbox(inbox&&) = default;
  inbox& operator=(inbox&&) = default;

  /// Finishes queued writes and joins the worker.
  ~inbox();

  /// Returns whether a journal backs this inbox.
  bool durable() const {
    return journal_ != nullptr;
  }

  /// Returns the journal's path (empty without one).
  const std::string& path() const {
    return path_;
  }

  /// Returns (once) the messages a previous run accepted but did not
  /// finish, each with its delivery count raised.
  inbound_batch take_recovered();

  /// Queues the append of `batch` (and of the done marks collected so
  /// far, which go first); `written` runs on the worker afterwards.
  void append(const inbound_batch& batch, written_fn written);

  /// Collects the done mark of `update_id`. Returns true when it is the
  /// first since the last flush: the caller then arms a flush timer, since
  /// no batch may come to carry the marks.
  bool mark_done(int64_t update_id);

  /// Queues the record of `update_id`'s answer (after the marks collected
  /// so far); `written` runs on the worker once it is written. Without a
  /// journal, `written` runs at once.
  void record_answer(int64_t update_id, std::string answer, written_fn written);

  /// Collects a progress mark (chunks confirmed, or the streamed preview);
  /// returns true as `mark_done` does.
  bool mark_progress(const journal_mark& mark);

  /// Hands the collected marks to the worker in one task.
  void flush_done();

  /// Flushes and joins the worker (the destructor does it too); the inbox
  /// runs without a journal afterwards.
  void stop();

  /// The journal and its worker, for tests that order writes.
  inbox_journal* journal() const {
    return journal_.get();
  }
  journal_worker* worker() const {
    return worker_.get();
  }

private:
  std::string path_;
  std::shared_ptr<inbox_journal> journal_;
  std::unique_ptr<journal_worker> worker_;
  inbound_batch recovered_;
  std::vector<int64_t> done_marks_;
  std::vector<journal_mark> progress_marks_;
  bool flush_armed_ = false;
};

} // namespace zaki
