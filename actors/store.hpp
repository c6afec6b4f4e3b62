#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "storage/db_worker.hpp"
#include "storage/user_registry.hpp"

namespace zaki {

/// A continuation of the database worker, run inside the store actor: the
/// worker never touches actor state, it sends this back.
struct store_reply {
  std::function<void()> fn;
};

/// State of the STORE actor: a thin front of the database worker thread,
/// which owns the SQLite connection. The actor keeps only the usage counters
/// not yet committed and what status and readiness report.
struct store_state {
  static inline const char* name = "store";
  context_ptr ctx;
  std::string db_path;
  /// The worker; null when the database did not open (see open_error).
  std::unique_ptr<db_worker> worker;
  std::string open_error;
  /// Usage counted since the last commit, by user; kept while the
  /// database refuses writes (full disk, read-only file).
  std::unordered_map<int64_t, usage_record> pending_usage;
  /// Transcript entries waiting for the next commit, and who waits for it.
  std::vector<transcript_entry> pending_transcripts;
  std::vector<caf::typed_response_promise<bool>> transcript_waiters;
  bool flush_armed = false;
  bool flush_in_flight = false;
  /// The last failed write, "" once a write succeeded again.
  std::string db_error;
  /// The last failed import (reload), for status and readiness detail.
  std::string last_error;
  uint64_t users = 0;
  uint64_t reloads = 0;
  uint64_t writes = 0;
  uint64_t write_failures = 0;

  /// Writes the usage and transcripts not yet committed, then lets the worker
  /// finish its queue (the worker's destructor joins it).
  ~store_state();
};

/// Spawns the store on `{store.database}` (default `{data_root}/zaki.db`).
/// The users of `initial` (tests, demo) are written to the database first;
/// the service imports users.json before it starts (see app/run).
store_actor::behavior_type
store(store_actor::stateful_pointer<store_state> self, context_ptr ctx,
      user_registry initial);

} // namespace zaki
