#include "storage/atomic_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// The one atomic file write of the tree (users.json, the retry store): the
// reader sees the old file or the new one, never a part, and after a crash
// the rename is either on disk or not.

namespace zaki {

namespace {

/// Writes into the directory `dirfd`; error texts show `shown_dir` before
/// the temporary name.
std::string write_at(int dirfd, const std::string& name,
                     std::string_view content, const std::string& shown_dir) {
  auto tmp = "." + name + ".tmp." + std::to_string(::getpid());
  auto fail = [&](const char* what, int fd) {
    auto err = std::string{what} + " " + shown_dir + tmp + ": "
      + std::strerror(errno);
    if (fd >= 0)
      ::close(fd);
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return err;
  };
  // A temporary left by a crashed writer of the same pid is ours to drop.
  ::unlinkat(dirfd, tmp.c_str(), 0);
  int fd = ::openat(dirfd, tmp.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    auto err = std::string{"cannot create "} + shown_dir + tmp + ": "
      + std::strerror(errno);
    return err;
  }
  size_t done = 0;
  while (done < content.size()) {
    auto n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("cannot write", fd);
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0)
    return fail("cannot sync", fd);
  ::close(fd);
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0)
    return fail("cannot rename", -1);
  // The rename is durable only once the directory entry is on disk.
  ::fsync(dirfd);
  return {};
}

} // namespace

std::string write_file_atomically_at(int dirfd, const std::string& name,
                                     std::string_view content) {
  return write_at(dirfd, name, content, {});
}

std::string write_file_atomically(const std::string& path,
                                  std::string_view content) {
  auto slash = path.rfind('/');
  auto dir = slash == std::string::npos ? std::string{"."}
                                        : path.substr(0, slash + 1);
  auto name = slash == std::string::npos ? path : path.substr(slash + 1);
  int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return "cannot open " + dir + ": " + std::strerror(errno);
  auto err = write_at(dirfd, name, content,
                      slash == std::string::npos ? std::string{} : dir);
  ::close(dirfd);
  return err;
}

} // namespace zaki
