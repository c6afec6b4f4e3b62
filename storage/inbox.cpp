#include "storage/inbox.hpp"

#include <filesystem>

#include "runtime/logging.hpp"

namespace zaki {

bool seen_window::insert(int64_t update_id) {
  if (!seen_.insert(update_id).second)
    return false;
  order_.push_back(update_id);
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

namespace {

/// Writes progress marks, then done marks (on the worker).
void write_marks(inbox_journal& journal,
                 const std::vector<journal_mark>& progress,
                 const std::vector<int64_t>& done) {
  std::string error;
  if (!progress.empty() && !journal.mark_progress(progress, error))
    logger("supervisor")
      ->error("event=journal_write_failed error={}", log_value(error));
  if (!done.empty() && !journal.mark_done(done, error))
    logger("supervisor")
      ->error("event=journal_write_failed error={}", log_value(error));
}

} // namespace

inbox inbox::open(const std::string& data_root, std::string& error) {
  inbox result;
  auto path = data_root + "/inbox.journal";
  std::error_code ec;
  std::filesystem::create_directories(data_root, ec);
  auto journal = inbox_journal::open(path, error);
  if (!journal)
    return result;
  result.path_ = std::move(path);
  result.recovered_ = journal->pending();
  for (auto& msg : result.recovered_)
    ++msg.delivery;
  result.journal_ = std::move(journal);
  result.worker_ = std::make_unique<journal_worker>();
  return result;
}

inbox::~inbox() {
  stop();
}

inbound_batch inbox::take_recovered() {
  return std::move(recovered_);
}

void inbox::append(const inbound_batch& batch, written_fn written) {
  if (!journal_) {
    written();
    return;
  }
  // Encoded here, so no copy of the messages crosses over to the worker.
  auto encoded = encode_journal_batch(batch);
  auto marks = std::move(done_marks_);
  done_marks_.clear();
  auto progress = std::move(progress_marks_);
  progress_marks_.clear();
  worker_->post([journal = journal_, encoded = std::move(encoded),
                 marks = std::move(marks), progress = std::move(progress),
                 written = std::move(written)] {
    std::string error;
    write_marks(*journal, progress, marks);
    if (!journal->append(encoded, error))
      logger("supervisor")
        ->error("event=journal_write_failed error={} "
                "action=route_without_journal",
                log_value(error));
    written();
  });
}

bool inbox::mark_done(int64_t update_id) {
  if (!journal_)
    return false;
  done_marks_.push_back(update_id);
  if (flush_armed_)
    return false;
  flush_armed_ = true;
  return true;
}

bool inbox::mark_progress(const journal_mark& mark) {
  if (!journal_)
    return false;
  progress_marks_.push_back(mark);
  if (flush_armed_)
    return false;
  flush_armed_ = true;
  return true;
}

void inbox::record_answer(int64_t update_id, std::string answer,
                          written_fn written) {
  if (!journal_) {
    written();
    return;
  }
  // The marks collected so far go first: one task, one wake-up.
  auto marks = std::move(done_marks_);
  done_marks_.clear();
  auto progress = std::move(progress_marks_);
  progress_marks_.clear();
  worker_->post([journal = journal_, update_id, answer = std::move(answer),
                 marks = std::move(marks), progress = std::move(progress),
                 written = std::move(written)] {
    write_marks(*journal, progress, marks);
    std::string error;
    if (!journal->record_answer(update_id, answer, error))
      logger("supervisor")
        ->error("event=journal_write_failed error={}", log_value(error));
    written();
  });
}

void inbox::flush_done() {
  flush_armed_ = false;
  if (!journal_ || (done_marks_.empty() && progress_marks_.empty()))
    return;
  auto ids = std::move(done_marks_);
  done_marks_.clear();
  auto progress = std::move(progress_marks_);
  progress_marks_.clear();
  worker_->post(
    [journal = journal_, ids = std::move(ids), progress = std::move(progress)] {
      write_marks(*journal, progress, ids);
    });
}

void inbox::stop() {
  if (!worker_)
    return;
  flush_done();
  worker_->stop();
  // From here on the inbox runs without a journal: nothing is queued to a
  // worker that no longer runs.
  worker_.reset();
  journal_.reset();
}

} // namespace zaki
