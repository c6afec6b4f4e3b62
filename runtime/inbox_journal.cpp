#include "runtime/inbox_journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include "runtime/json_writer.hpp"

namespace zaki {

namespace od = simdjson::ondemand;

namespace {

/// Rewrite the journal once it holds this many lines beyond the pending.
constexpr size_t compact_after_lines = 20000;

std::string sys_error(const char* what, const std::string& path) {
  return std::string{what} + " " + path + ": " + std::strerror(errno);
}

} // namespace

std::string encode_journal_entry(const inbound_message& msg) {
  json_writer w;
  w.begin_object().field("a", msg.update_id).field("f", msg.user_id);
  w.field("c", msg.chat_id).field("m", msg.message_id).field("t", msg.text);
  if (!msg.callback_id.empty())
    w.field("q", msg.callback_id);
  w.field("r", msg.request_id).field("n", uint64_t{msg.delivery});
  auto line = w.end_object().take();
  line += '\n';
  return line;
}

bool apply_journal_line(std::string line,
                        std::map<int64_t, inbound_message>& pending) {
  line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(line).get(doc) || doc.get_object().get(obj))
    return false;
  inbound_message msg;
  int64_t done = 0;
  bool accepted = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    auto value = field.value();
    std::string_view text;
    int64_t n = 0;
    if (key == "d") {
      if (value.get_int64().get(done))
        return false;
    } else if (key == "a") {
      if (value.get_int64().get(msg.update_id))
        return false;
      accepted = true;
    } else if (key == "f") {
      if (value.get_int64().get(msg.user_id))
        return false;
    } else if (key == "c") {
      if (value.get_int64().get(msg.chat_id))
        return false;
    } else if (key == "m") {
      if (value.get_int64().get(msg.message_id))
        return false;
    } else if (key == "n") {
      if (value.get_int64().get(n))
        return false;
      msg.delivery = static_cast<uint32_t>(n);
    } else if (key == "t" || key == "q" || key == "r") {
      if (value.get_string().get(text))
        return false;
      auto& dst = key == "t" ? msg.text
                             : (key == "q" ? msg.callback_id : msg.request_id);
      dst.assign(text.data(), text.size());
    }
  }
  if (done != 0) {
    pending.erase(done);
    return true;
  }
  if (!accepted || msg.user_id == 0)
    return false;
  auto id = msg.update_id;
  pending[id] = std::move(msg);
  return true;
}

inbox_journal::inbox_journal(std::string path, int fd)
  : path_(std::move(path)), fd_(fd) {
  // nop
}

inbox_journal::~inbox_journal() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::unique_ptr<inbox_journal> inbox_journal::open(const std::string& path,
                                                   std::string& error) {
  int fd = ::open(path.c_str(),
                  O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    error = sys_error("cannot open", path);
    return nullptr;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = "another router uses the journal " + path;
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<inbox_journal> result{new inbox_journal(path, fd)};
  // Read everything; lines are short, the file is compacted regularly.
  std::string content;
  char buf[65536];
  for (;;) {
    auto n = ::pread(fd, buf, sizeof(buf), static_cast<off_t>(content.size()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = sys_error("cannot read", path);
      return nullptr;
    }
    if (n == 0)
      break;
    content.append(buf, static_cast<size_t>(n));
  }
  size_t pos = 0;
  while (pos < content.size()) {
    auto end = content.find('\n', pos);
    if (end == std::string::npos)
      break; // a torn last line: the append never completed
    apply_journal_line(content.substr(pos, end - pos), result->pending_);
    ++result->lines_;
    pos = end + 1;
  }
  // Start from a compact file: only what is still pending.
  if (!result->compact(error))
    return nullptr;
  return result;
}

std::vector<inbound_message> inbox_journal::pending() const {
  std::vector<inbound_message> result;
  result.reserve(pending_.size());
  for (auto& kvp : pending_)
    result.push_back(kvp.second);
  return result;
}

bool inbox_journal::write_all(const std::string& text, std::string& error) {
  size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = sys_error("cannot write", path_);
      return false;
    }
    written += static_cast<size_t>(n);
  }
  return true;
}

bool inbox_journal::append(const inbound_batch& batch, std::string& error) {
  return append(inbound_batch{batch}, error);
}

bool inbox_journal::append(inbound_batch&& batch, std::string& error) {
  std::string text;
  for (auto& msg : batch) {
    text += encode_journal_entry(msg);
    auto id = msg.update_id;
    pending_[id] = std::move(msg);
  }
  lines_ += batch.size();
  if (!write_all(text, error))
    return false;
  if (::fdatasync(fd_) != 0) {
    error = sys_error("cannot sync", path_);
    return false;
  }
  return true;
}

bool inbox_journal::mark_done(int64_t update_id, std::string& error) {
  return mark_done(std::vector<int64_t>{update_id}, error);
}

bool inbox_journal::mark_done(const std::vector<int64_t>& update_ids,
                              std::string& error) {
  std::string text;
  for (auto id : update_ids) {
    if (pending_.erase(id) == 0)
      continue;
    ++lines_;
    text += "{\"d\":";
    text += std::to_string(id);
    text += "}\n";
  }
  if (text.empty())
    return true;
  if (!write_all(text, error))
    return false;
  if (lines_ > compact_after_lines + pending_.size())
    return compact(error);
  return true;
}

bool inbox_journal::compact(std::string& error) {
  auto tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    error = sys_error("cannot create", tmp);
    return false;
  }
  std::string text;
  for (auto& kvp : pending_)
    text += encode_journal_entry(kvp.second);
  size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = sys_error("cannot write", tmp);
      ::close(fd);
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    error = sys_error("cannot replace", path_);
    ::close(fd);
    return false;
  }
  ::close(fd);
  // The renamed file replaces ours: continue appending to it, locked.
  int new_fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (new_fd < 0) {
    error = sys_error("cannot reopen", path_);
    return false;
  }
  ::flock(new_fd, LOCK_EX | LOCK_NB);
  ::close(fd_);
  fd_ = new_fd;
  lines_ = pending_.size();
  return true;
}

journal_worker::journal_worker() : thread_([this] { run(); }) {
  // nop
}

journal_worker::~journal_worker() {
  stop();
}

void journal_worker::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void journal_worker::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable())
    thread_.join();
}

void journal_worker::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty() && stopping_)
      return;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

} // namespace zaki
