#include "storage/users_import.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "json/writer.hpp"
#include "storage/database.hpp"
#include "storage/users_file.hpp"

namespace zaki {

namespace {

/// The kv key under which the mtime of the last import from (or export
/// to) `path` is kept: an export to users.json is no reason to import it
/// again at the next start.
std::string mtime_key(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return "users_file.mtime_ns:" + (ec ? path : abs.lexically_normal().string());
}

int64_t mtime_of(const std::string& path, bool& exists) {
  struct stat st;
  exists = ::stat(path.c_str(), &st) == 0;
  if (!exists)
    return 0;
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

std::string write_all(int fd, std::string_view text) {
  size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return std::strerror(errno);
    written += static_cast<size_t>(n);
  }
  return {};
}

} // namespace

bool users_file_is_newer(database& db, const std::string& path) {
  bool exists = false;
  auto mtime = mtime_of(path, exists);
  if (!exists)
    return false;
  std::string err;
  auto last = db.kv_get(mtime_key(path), err);
  return !last || std::to_string(mtime) != *last;
}

import_report import_users(database& db, const std::string& path,
                           bool unique_gateways) {
  import_report rep;
  bool exists = false;
  rep.mtime_ns = mtime_of(path, exists);
  if (!exists) {
    rep.missing = true;
    rep.error = "users file " + path + " does not exist";
    return rep;
  }
  // A savepoint nests in the worker's batch transaction as well as standing
  // alone (CLI, start): either every entry lands or none does.
  if (auto err = db.exec("SAVEPOINT users_import"); !err.empty()) {
    rep.error = err;
    return rep;
  }
  std::string write_error;
  auto res = load_users_file(path, [&](user_record&& rec) {
    if (!write_error.empty())
      return;
    if (auto err = db.put_user(rec); !err.empty())
      write_error = err;
    else
      ++rep.imported;
  });
  auto fail = [&](std::string why) {
    db.exec("ROLLBACK TO users_import");
    db.exec("RELEASE users_import");
    rep.error = std::move(why);
    rep.imported = 0;
    return rep;
  };
  if (!res.ok)
    return fail(res.error);
  if (!write_error.empty())
    return fail(write_error);
  rep.warnings = std::move(res.warnings);
  std::string err;
  auto shared = db.shared_gateways(err);
  if (!err.empty())
    return fail(err);
  if (!shared.empty()) {
    if (unique_gateways)
      return fail("users share a gateway, which the process and docker "
                  "backends cannot run: "
                  + shared);
    rep.shared_note = shared;
  }
  if (auto e = db.kv_set(mtime_key(path), std::to_string(rep.mtime_ns));
      !e.empty())
    return fail(e);
  if (auto e = db.exec("RELEASE users_import"); !e.empty())
    return fail(e);
  rep.ok = true;
  return rep;
}

std::string export_users(database& db, const std::string& path,
                         uint64_t& count) {
  count = 0;
  auto tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return "cannot create " + tmp + ": " + std::strerror(errno);
  auto fail = [&](std::string why) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return why;
  };
  // The entries stream through a buffer of about 1 MB: an export of a
  // million users never holds them all.
  std::string buf = "{\"users\":{";
  std::string io_error;
  bool first = true;
  auto err = db.for_each_user([&](const user_record& rec) {
    if (!io_error.empty())
      return;
    json_writer w;
    w.begin_object();
    write_user_entry(w, rec);
    w.end_object();
    auto& text = w.str();
    // Strip the wrapping braces: the entry is a member of "users".
    if (!first)
      buf += ',';
    first = false;
    buf.append(text, 1, text.size() - 2);
    ++count;
    if (buf.size() > (1u << 20)) {
      io_error = write_all(fd, buf);
      buf.clear();
    }
  });
  if (!err.empty())
    return fail(err);
  buf += "}}\n";
  if (io_error.empty())
    io_error = write_all(fd, buf);
  if (!io_error.empty())
    return fail("cannot write " + tmp + ": " + io_error);
  if (::fsync(fd) != 0)
    return fail("cannot sync " + tmp + ": " + std::strerror(errno));
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = std::string{std::strerror(errno)};
    ::unlink(tmp.c_str());
    return "cannot rename " + tmp + " to " + path + ": " + e;
  }
  auto slash = path.rfind('/');
  auto dir = slash == std::string::npos ? std::string{"."}
                                        : path.substr(0, slash);
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  bool exists = false;
  auto mtime = mtime_of(path, exists);
  // Best effort: the file is written either way.
  db.kv_set(mtime_key(path), std::to_string(mtime));
  return {};
}

} // namespace zaki
