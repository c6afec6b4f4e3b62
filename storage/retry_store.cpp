#include "storage/retry_store.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include "chat/request_id.hpp"
#include "json/writer.hpp"
#include "storage/atomic_file.hpp"
#include "storage/user_paths.hpp"

namespace zaki {

namespace {

namespace od = simdjson::ondemand;

/// The router's own subdirectory of a user's data dir. The dot keeps it out
/// of the way of the gateway's files.
constexpr const char* retry_dir_name = ".zaki-retry";

/// A record holds one Telegram message (4096 UTF-16 units, at most 16 KiB
/// of UTF-8) plus a few fields; anything larger is not ours.
constexpr size_t max_file_size = 64 << 10;

constexpr std::string_view suffix = ".json";

std::string errno_text(const char* what, const std::string& path) {
  return std::string{what} + " " + path + ": " + std::strerror(errno);
}

/// Opens (or, with `create`, makes) the retry dir of a user. Sets
/// `no_user` when the user's data dir does not exist.
unique_fd open_retry_dir(const std::string& data_root, int64_t user_id,
                         bool create, bool& no_user, std::string& error) {
  no_user = false;
  auto user_dir = open_user_dir(data_root, user_id, create, error);
  if (!user_dir) {
    no_user = errno == ENOENT;
    return {};
  }
  auto path = user_data_dir(data_root, user_id) + "/" + retry_dir_name;
  auto fd = open_subdir(user_dir.get(), retry_dir_name, path, error);
  if (fd || !create || errno != ENOENT)
    return fd;
  if (::mkdirat(user_dir.get(), retry_dir_name, 0700) != 0 && errno != EEXIST) {
    error = errno_text("cannot create", path);
    return {};
  }
  error.clear();
  return open_subdir(user_dir.get(), retry_dir_name, path, error);
}

/// Reads a regular file of `dirfd` without following a symlink.
bool read_file_at(int dirfd, const std::string& name, std::string& out,
                  bool& missing, std::string& error) {
  missing = false;
  unique_fd fd{::openat(dirfd, name.c_str(),
                        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)};
  if (!fd) {
    missing = errno == ENOENT;
    error = errno_text("cannot open", name);
    return false;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)
      || static_cast<size_t>(st.st_size) > max_file_size) {
    error = name + " is not a regular file of at most 64 KiB";
    return false;
  }
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    auto n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = errno_text("cannot read", name);
      return false;
    }
    got += static_cast<size_t>(n);
  }
  return true;
}

std::string file_name_of(std::string_view request_id) {
  std::string out{request_id};
  out += suffix;
  return out;
}

} // namespace

bool operator==(const retry_record& x, const retry_record& y) {
  return x.user_id == y.user_id && x.chat_id == y.chat_id
    && x.request_id == y.request_id && x.text == y.text
    && x.created_at == y.created_at && x.used_by == y.used_by;
}

std::string encode_retry_record(const retry_record& rec) {
  json_writer w;
  w.begin_object()
    .field("v", 1)
    .field("user_id", rec.user_id)
    .field("chat_id", rec.chat_id)
    .field("request_id", rec.request_id)
    .field("created_at", rec.created_at)
    .field("used_by", rec.used_by)
    .field("text", rec.text)
    .end_object();
  return w.take();
}

std::optional<retry_record> decode_retry_record(std::string text) {
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  thread_local od::parser parser{max_file_size};
  od::document doc;
  if (parser.iterate(text).get(doc))
    return std::nullopt;
  od::object obj;
  if (doc.get_object().get(obj))
    return std::nullopt;
  retry_record rec;
  int64_t version = 0;
  bool has_text = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return std::nullopt;
    auto value = field.value();
    std::string_view str;
    if (key == "v") {
      if (value.get_int64().get(version))
        return std::nullopt;
    } else if (key == "user_id") {
      if (value.get_int64().get(rec.user_id))
        return std::nullopt;
    } else if (key == "chat_id") {
      if (value.get_int64().get(rec.chat_id))
        return std::nullopt;
    } else if (key == "created_at") {
      if (value.get_int64().get(rec.created_at))
        return std::nullopt;
    } else if (key == "request_id" || key == "used_by" || key == "text") {
      if (value.get_string().get(str))
        return std::nullopt;
      if (key == "request_id")
        rec.request_id.assign(str.data(), str.size());
      else if (key == "used_by")
        rec.used_by.assign(str.data(), str.size());
      else {
        rec.text.assign(str.data(), str.size());
        has_text = true;
      }
    }
    // Unknown keys are skipped: a later version may add fields.
  }
  if (version != 1 || rec.user_id <= 0 || !has_text
      || !is_valid_request_id(rec.request_id))
    return std::nullopt;
  return rec;
}

const char* to_string(retry_take_status x) {
  switch (x) {
    case retry_take_status::ok: return "ok";
    case retry_take_status::already_used: return "already_used";
    case retry_take_status::expired: return "expired";
    case retry_take_status::no_user: return "no_user";
    case retry_take_status::error: return "error";
  }
  return "error";
}

retry_store::retry_store(std::string data_root, std::chrono::seconds window)
  : data_root_(std::move(data_root)), window_(window) {
  // nop
}

int64_t retry_store::now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           wall_clock::now().time_since_epoch())
    .count();
}

std::string retry_store::save(const retry_record& rec) {
  if (!is_valid_request_id(rec.request_id))
    return "invalid request id";
  bool no_user = false;
  std::string error;
  auto dir = open_retry_dir(data_root_, rec.user_id, true, no_user, error);
  if (!dir)
    return error;
  if (auto err = write_file_atomically_at(
        dir.get(), file_name_of(rec.request_id), encode_retry_record(rec));
      !err.empty())
    return err;
  prune(rec.user_id, rec.created_at);
  return {};
}

retry_take_result retry_store::take(int64_t user_id,
                                    std::string_view request_id,
                                    std::string_view taker) {
  return take(user_id, request_id, taker, now_seconds());
}

retry_take_result retry_store::take(int64_t user_id,
                                    std::string_view request_id,
                                    std::string_view taker, int64_t now) {
  retry_take_result res;
  if (!is_valid_request_id(request_id)) {
    res.status = retry_take_status::expired;
    return res;
  }
  bool no_user = false;
  auto dir = open_retry_dir(data_root_, user_id, false, no_user, res.error);
  if (!dir) {
    // A user dir without a retry dir simply has no records.
    res.status = no_user ? retry_take_status::no_user
      : errno == ENOENT  ? retry_take_status::expired
                         : retry_take_status::error;
    return res;
  }
  auto name = file_name_of(request_id);
  std::string content;
  bool missing = false;
  if (!read_file_at(dir.get(), name, content, missing, res.error)) {
    res.status = missing ? retry_take_status::expired
                         : retry_take_status::error;
    return res;
  }
  auto rec = decode_retry_record(std::move(content));
  if (!rec || rec->user_id != user_id || rec->request_id != request_id) {
    // Not a record of ours for this user: treat it like no record at all.
    res.status = retry_take_status::expired;
    return res;
  }
  if (now - rec->created_at > window_.count() || rec->created_at > now + 60) {
    ::unlinkat(dir.get(), name.c_str(), 0);
    res.status = retry_take_status::expired;
    return res;
  }
  if (!rec->used_by.empty() && rec->used_by != taker) {
    res.status = retry_take_status::already_used;
    res.record = std::move(*rec);
    return res;
  }
  if (rec->used_by.empty()) {
    // Durably used before anything is re-sent: a second press, even after
    // a crash right here, finds the mark.
    rec->used_by = std::string{taker};
    if (auto err = write_file_atomically_at(dir.get(), name,
                                            encode_retry_record(*rec));
        !err.empty()) {
      res.status = retry_take_status::error;
      res.error = std::move(err);
      return res;
    }
  }
  res.status = retry_take_status::ok;
  res.record = std::move(*rec);
  return res;
}

size_t retry_store::prune(int64_t user_id, int64_t now) {
  bool no_user = false;
  std::string error;
  auto dir = open_retry_dir(data_root_, user_id, false, no_user, error);
  if (!dir)
    return 0;
  // fdopendir takes over its descriptor; give it a duplicate.
  int dup = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0)
    return 0;
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return 0;
  }
  size_t removed = 0;
  while (auto* entry = ::readdir(d)) {
    std::string_view name{entry->d_name};
    if (name == "." || name == "..")
      continue;
    struct stat st;
    if (::fstatat(dir.get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    // The mtime is the time of the failure or of the press; both are
    // within the window of a live record. Leftover temp files go as well.
    if (now - static_cast<int64_t>(st.st_mtime) > window_.count()
        && ::unlinkat(dir.get(), entry->d_name, 0) == 0)
      ++removed;
  }
  ::closedir(d);
  return removed;
}

} // namespace zaki
