#include "storage/inbox_journal.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>

#include <simdjson.h>

#include "json/writer.hpp"

namespace zaki {

namespace od = simdjson::ondemand;

namespace {

/// Rewrite the journal once it holds this many lines beyond the pending.
constexpr size_t compact_after_lines = 20000;

/// ... or once this many bytes were appended since the last compaction.
constexpr uint64_t compact_after_bytes = 32 * 1024 * 1024;

std::string sys_error(const char* what, const std::string& path) {
  return std::string{what} + " " + path + ": " + std::strerror(errno);
}

} // namespace

namespace {

template <class Integer>
void append_number(std::string& out, Integer v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(res.ptr - buf));
}

void append_string_member(std::string& out, const char* key,
                          std::string_view value) {
  out += key;
  append_json_escaped(out, value);
  out += '"';
}

/// Returns the update id of a line about one message (`{"a":<id>,...`,
/// or the answer and progress lines `w`, `s`, `p`) and its kind, or 0.
int64_t line_id(std::string_view line, char& kind) {
  if (line.size() < 6 || line.substr(0, 2) != "{\""
      || std::string_view{"awsp"}.find(line[2]) == std::string_view::npos
      || line.substr(3, 2) != "\":")
    return 0;
  kind = line[2];
  int64_t id = 0;
  auto first = line.data() + 5;
  auto res = std::from_chars(first, line.data() + line.size(), id);
  if (res.ec != std::errc{} || res.ptr == first || *res.ptr != ',')
    return 0;
  return id;
}

} // namespace

void append_journal_entry(const inbound_message& msg, std::string& out) {
  // Written by hand (the members never change), straight into the batch.
  out += "{\"a\":";
  append_number(out, msg.update_id);
  out += ",\"f\":";
  append_number(out, msg.user_id);
  out += ",\"c\":";
  append_number(out, msg.chat_id);
  out += ",\"m\":";
  append_number(out, msg.message_id);
  append_string_member(out, ",\"t\":\"", msg.text);
  if (!msg.callback_id.empty())
    append_string_member(out, ",\"q\":\"", msg.callback_id);
  append_string_member(out, ",\"r\":\"", msg.request_id);
  out += ",\"n\":";
  append_number(out, msg.delivery);
  // Media fields (issue 25) only when set: a text costs no byte more, and
  // journals of earlier versions read as before.
  if (msg.kind != inbound_kind::text || msg.chat != chat_kind::private_chat
      || msg.edited || msg.mentions || msg.reply_to_user_id != 0) {
    out += ",\"k\":";
    append_number(out, static_cast<int>(msg.kind));
    out += ",\"g\":";
    append_number(out, static_cast<int>(msg.chat));
    out += ",\"e\":";
    append_number(out, (msg.edited ? 1 : 0) | (msg.mentions ? 2 : 0));
    out += ",\"y\":";
    append_number(out, msg.reply_to_user_id);
  }
  if (!msg.file_id.empty() || msg.file_size != 0) {
    append_string_member(out, ",\"i\":\"", msg.file_id);
    append_string_member(out, ",\"o\":\"", msg.file_name);
    append_string_member(out, ",\"p\":\"", msg.mime_type);
    out += ",\"z\":";
    append_number(out, msg.file_size);
  }
  out += "}\n";
}

std::string encode_journal_entry(const inbound_message& msg) {
  std::string line;
  append_journal_entry(msg, line);
  return line;
}

journal_batch encode_journal_batch(const inbound_batch& batch) {
  journal_batch result;
  result.ids.reserve(batch.size());
  result.lines.reserve(batch.size() * 128);
  for (auto& msg : batch) {
    append_journal_entry(msg, result.lines);
    result.ids.push_back(msg.update_id);
  }
  return result;
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
  // The first key names the line: a(ccepted), d(one), w (answer), s(ent
  // chunks), p(review).
  char kind = 0;
  int64_t id = 0;
  int64_t number = 0;
  std::string answer;
  bool has_answer = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    auto value = field.value();
    std::string_view text;
    int64_t n = 0;
    if (kind == 0) {
      if (key.size() != 1
          || std::string_view{"adwsp"}.find(key[0]) == std::string_view::npos)
        return false;
      kind = key[0];
      if (value.get_int64().get(id))
        return false;
      msg.update_id = id;
    } else if (kind == 'a') {
      if (key == "f") {
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
      } else if (key == "k" || key == "g" || key == "e" || key == "y"
                 || key == "z") {
        // Media fields (issue 25): kind, chat kind, edit and mention
        // flags, the replied-to user, the file's size.
        if (value.get_int64().get(n))
          return false;
        if (key == "k" && n >= 0 && n <= static_cast<int>(inbound_kind::dice))
          msg.kind = static_cast<inbound_kind>(n);
        else if (key == "g" && n >= 0
                 && n <= static_cast<int>(chat_kind::channel))
          msg.chat = static_cast<chat_kind>(n);
        else if (key == "e") {
          msg.edited = (n & 1) != 0;
          msg.mentions = (n & 2) != 0;
        } else if (key == "y")
          msg.reply_to_user_id = n;
        else if (key == "z")
          msg.file_size = n;
      } else if (key == "i" || key == "o" || key == "p") {
        if (value.get_string().get(text))
          return false;
        auto& dst = key == "i" ? msg.file_id
                               : (key == "o" ? msg.file_name : msg.mime_type);
        dst.assign(text.data(), text.size());
      } else if (key == "t" || key == "q" || key == "r") {
        if (value.get_string().get(text))
          return false;
        auto& dst = key == "t"
          ? msg.text
          : (key == "q" ? msg.callback_id : msg.request_id);
        dst.assign(text.data(), text.size());
      }
    } else if (kind == 'w' && key == "x") {
      if (value.get_string().get(text))
        return false;
      answer.assign(text.data(), text.size());
      has_answer = true;
    } else if ((kind == 's' && key == "k") || (kind == 'p' && key == "i")) {
      if (value.get_int64().get(number) || number < 0)
        return false;
    }
  }
  switch (kind) {
    case 'd': pending.erase(id); return true;
    case 'a': {
      if (msg.user_id == 0)
        return false;
      pending[id] = std::move(msg);
      return true;
    }
    case 'w': {
      if (!has_answer)
        return false;
      // Progress of a message done before (or never accepted) is moot.
      if (auto i = pending.find(id); i != pending.end()) {
        i->second.answered = true;
        i->second.answer = std::move(answer);
      }
      return true;
    }
    case 's':
      if (auto i = pending.find(id); i != pending.end())
        i->second.chunks_sent = std::max(i->second.chunks_sent,
                                         static_cast<uint32_t>(number));
      return true;
    case 'p':
      if (auto i = pending.find(id); i != pending.end())
        i->second.preview_message_id = number;
      return true;
    default: return false;
  }
}

void append_answer_entry(int64_t update_id, std::string_view answer,
                         std::string& out) {
  out += "{\"w\":";
  append_number(out, update_id);
  append_string_member(out, ",\"x\":\"", answer);
  out += "}\n";
}

size_t append_mark_entry(const journal_mark& mark, std::string& out) {
  size_t lines = 0;
  if (mark.chunks_sent > 0) {
    out += "{\"s\":";
    append_number(out, mark.update_id);
    out += ",\"k\":";
    append_number(out, mark.chunks_sent);
    out += "}\n";
    ++lines;
  }
  if (mark.preview_message_id > 0) {
    out += "{\"p\":";
    append_number(out, mark.update_id);
    out += ",\"i\":";
    append_number(out, mark.preview_message_id);
    out += "}\n";
    ++lines;
  }
  return lines;
}

std::map<int64_t, inbound_message> decode_journal(std::string_view content) {
  std::map<int64_t, inbound_message> result;
  size_t pos = 0;
  while (pos < content.size()) {
    auto end = content.find('\n', pos);
    if (end == std::string::npos)
      break; // a torn last line
    apply_journal_line(std::string{content.substr(pos, end - pos)}, result);
    pos = end + 1;
  }
  return result;
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
  std::string content;
  if (!result->read_all(content, error))
    return nullptr;
  std::map<int64_t, inbound_message> pending;
  result->lines_ = parse_journal(content, pending);
  for (auto& kvp : pending)
    result->pending_.insert(kvp.first);
  // Start from a compact file: only what is still pending.
  content = {};
  if (!result->compact(error))
    return nullptr;
  return result;
}

size_t inbox_journal::parse_journal(std::string_view content,
                                    std::map<int64_t, inbound_message>& out) {
  size_t lines = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    auto end = content.find('\n', pos);
    if (end == std::string::npos)
      break; // a torn last line: the append never completed
    apply_journal_line(std::string{content.substr(pos, end - pos)}, out);
    ++lines;
    pos = end + 1;
  }
  return lines;
}

bool inbox_journal::read_all(std::string& content, std::string& error) const {
  // Lines are short and the file is compacted regularly. The string is
  // sized once (grown by doubling, it would hold up to three times the
  // file at once).
  content.clear();
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_size > 0)
    content.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    auto n = ::pread(fd_, buf, sizeof(buf), static_cast<off_t>(content.size()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = sys_error("cannot read", path_);
      return false;
    }
    if (n == 0)
      return true;
    content.append(buf, static_cast<size_t>(n));
  }
}

std::vector<inbound_message> inbox_journal::pending() const {
  std::vector<inbound_message> result;
  std::string content;
  std::string error;
  if (!read_all(content, error))
    return result;
  std::map<int64_t, inbound_message> decoded;
  parse_journal(content, decoded);
  result.reserve(pending_.size());
  for (auto& kvp : decoded)
    if (pending_.count(kvp.first) != 0)
      result.push_back(std::move(kvp.second));
  return result;
}

bool inbox_journal::write_all(int fd, std::string_view text,
                              const std::string& path, std::string& error) {
  size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = sys_error("cannot write", path);
      return false;
    }
    written += static_cast<size_t>(n);
  }
  return true;
}

bool inbox_journal::append(const inbound_batch& batch, std::string& error) {
  return append(encode_journal_batch(batch), error);
}

bool inbox_journal::append(const journal_batch& batch, std::string& error) {
  for (auto id : batch.ids)
    pending_.insert(id);
  lines_ += batch.ids.size();
  bytes_ += batch.lines.size();
  if (!write_all(fd_, batch.lines, path_, error))
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
  size_t lines = 0;
  for (auto id : update_ids) {
    if (pending_.erase(id) == 0)
      continue;
    ++lines;
    text += "{\"d\":";
    append_number(text, id);
    text += "}\n";
  }
  return write_lines(text, lines, error);
}

bool inbox_journal::record_answer(int64_t update_id, std::string_view answer,
                                  std::string& error) {
  if (pending_.count(update_id) == 0)
    return true;
  std::string text;
  text.reserve(answer.size() + 32);
  append_answer_entry(update_id, answer, text);
  return write_lines(text, 1, error);
}

bool inbox_journal::mark_progress(const std::vector<journal_mark>& marks,
                                  std::string& error) {
  std::string text;
  size_t lines = 0;
  for (auto& mark : marks)
    if (pending_.count(mark.update_id) != 0)
      lines += append_mark_entry(mark, text);
  return write_lines(text, lines, error);
}

bool inbox_journal::write_lines(std::string_view text, size_t lines,
                                std::string& error) {
  if (text.empty())
    return true;
  if (!write_all(fd_, text, path_, error))
    return false;
  lines_ += lines;
  bytes_ += text.size();
  // Line count bounds a journal of short lines, bytes one of long answers.
  if (lines_ > compact_after_lines + 4 * pending_.size()
      || bytes_ > compact_after_bytes)
    return compact(error);
  return true;
}

bool inbox_journal::compact(std::string& error) {
  // The accepted lines of the pending messages, verbatim and once each;
  // done marks, lines that did not decode at open and a torn last line are
  // dropped. The file streams through a small buffer into the new one: read
  // whole, it took 13 MB with 10,000 users in flight, on the journal thread,
  // whose malloc arena then kept the pages.
  auto tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    error = sys_error("cannot create", tmp);
    return false;
  }
  auto give_up = [&] {
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  };
  std::unordered_set<int64_t> kept;
  size_t lines = 0;
  std::string out;
  auto keep = [&](std::string_view line) {
    char kind = 0;
    auto id = line_id(line, kind);
    if (id == 0 || pending_.count(id) == 0)
      return;
    // One accepted line per message; its answer and marks follow it.
    if (kind == 'a' ? kept.insert(id).second : kept.count(id) != 0) {
      out.append(line.data(), line.size());
      ++lines;
    }
  };
  constexpr size_t chunk_size = 65536;
  std::vector<char> buf(chunk_size);
  std::string carry; // a line cut by the end of a chunk
  off_t offset = 0;
  for (;;) {
    auto n = ::pread(fd_, buf.data(), buf.size(), offset);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = sys_error("cannot read", path_);
      return give_up();
    }
    if (n == 0)
      break;
    offset += n;
    std::string_view chunk{buf.data(), static_cast<size_t>(n)};
    size_t pos = 0;
    for (auto end = chunk.find('\n'); end != std::string_view::npos;
         end = chunk.find('\n', pos)) {
      auto piece = chunk.substr(pos, end - pos + 1);
      pos = end + 1;
      if (carry.empty()) {
        keep(piece);
      } else {
        carry.append(piece.data(), piece.size());
        keep(carry);
        carry.clear();
      }
    }
    carry.append(chunk.data() + pos, chunk.size() - pos);
    if (out.size() >= chunk_size) {
      if (!write_all(fd, out, tmp, error))
        return give_up();
      out.clear();
    }
  }
  if (!write_all(fd, out, tmp, error))
    return give_up();
  if (::fsync(fd) != 0 || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    error = sys_error("cannot replace", path_);
    return give_up();
  }
  ::close(fd);
  // The renamed file replaces ours: continue appending to it, locked.
  int new_fd = ::open(path_.c_str(),
                      O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (new_fd < 0) {
    error = sys_error("cannot reopen", path_);
    return false;
  }
  ::flock(new_fd, LOCK_EX | LOCK_NB);
  ::close(fd_);
  fd_ = new_fd;
  lines_ = lines;
  bytes_ = 0;
  return true;
}

journal_worker::journal_worker()
  : thread_([this] {
      run();
    }) {
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
    cv_.wait(lock, [this] {
      return stopping_ || !tasks_.empty();
    });
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
