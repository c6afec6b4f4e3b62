#include "storage/user_paths.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace zaki {

std::optional<int64_t> parse_user_id(std::string_view text) {
  if (text.empty() || text.size() > 19)
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  // 19 digits never overflow uint64_t, but may exceed INT64_MAX.
  if (value == 0 || value > uint64_t{std::numeric_limits<int64_t>::max()})
    return std::nullopt;
  return static_cast<int64_t>(value);
}

std::string user_dir_name(int64_t id) {
  return "user-" + std::to_string(id);
}

std::string user_data_dir(const std::string& data_root, int64_t id) {
  return data_root + "/users/" + user_dir_name(id);
}

std::string check_path_in_root(const std::string& data_root,
                               const std::string& path) {
  std::string root = data_root;
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  if (path.size() <= root.size() + 1 || path.compare(0, root.size(), root) != 0
      || path[root.size()] != '/')
    return "path " + path + " is not below the data root " + root;
  // Walk the components after the root, refusing anything that could leave it.
  std::string current = root;
  size_t pos = root.size() + 1;
  while (pos <= path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string::npos)
      end = path.size();
    auto part = path.substr(pos, end - pos);
    if (part.empty() || part == "." || part == "..")
      return "path " + path + " has an empty, '.' or '..' component";
    current += '/';
    current += part;
    struct stat st;
    if (::lstat(current.c_str(), &st) != 0) {
      if (errno == ENOENT)
        return {}; // Nothing further exists, so nothing can be followed.
      return "cannot inspect " + current + ": " + std::strerror(errno);
    }
    if (S_ISLNK(st.st_mode))
      return current + " is a symlink (not followed)";
    pos = end + 1;
  }
  return {};
}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

unique_fd::~unique_fd() {
  reset();
}

void unique_fd::reset() noexcept {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

unique_fd open_subdir(int dirfd, const char* name, const std::string& path,
                      std::string& error) {
  unique_fd fd{
    ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (fd)
    return fd;
  int err = errno;
  if (err == ELOOP) {
    error = path + " is a symlink (not followed)";
  } else if (err == ENOTDIR) {
    // O_NOFOLLOW|O_DIRECTORY on a symlink also gives ENOTDIR on some kernels.
    struct stat st;
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
        && S_ISLNK(st.st_mode))
      error = path + " is a symlink (not followed)";
    else
      error = path + " is not a directory";
  } else {
    error = "cannot open " + path + ": " + std::strerror(err);
  }
  errno = err;
  return {};
}

namespace {

unique_fd open_or_make(int dirfd, const char* name, const std::string& path,
                       bool create, std::string& error) {
  auto fd = open_subdir(dirfd, name, path, error);
  if (fd || !create || errno != ENOENT)
    return fd;
  if (::mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return {};
  }
  error.clear();
  return open_subdir(dirfd, name, path, error);
}

} // namespace

unique_fd open_user_dir(const std::string& data_root, int64_t id, bool create,
                        std::string& error) {
  if (id <= 0) {
    error = "invalid user id " + std::to_string(id);
    return {};
  }
  // The root itself may be a symlink chosen by the operator, so follow it.
  unique_fd root{::open(data_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!root) {
    error = "cannot open data root " + data_root + ": " + std::strerror(errno);
    return {};
  }
  auto users_path = data_root + "/users";
  auto users = open_or_make(root.get(), "users", users_path, create, error);
  if (!users)
    return {};
  auto name = user_dir_name(id);
  return open_or_make(users.get(), name.c_str(), users_path + '/' + name,
                      create, error);
}

} // namespace zaki
