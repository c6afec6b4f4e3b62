#include "storage/writable.hpp"

#include <cerrno>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

namespace zaki {

std::string unwritable_reason(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return dir + " is missing (" + std::strerror(errno) + ")";
  if (!S_ISDIR(st.st_mode))
    return dir + " is not a directory";
  // access() reports EROFS for a read-only mount also to root, for whom
  // the permission bits do not count.
  if (::access(dir.c_str(), W_OK) != 0)
    return dir + " is not writable (" + std::strerror(errno) + ")";
  return {};
}

std::string unwritable_file_reason(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0)
    return {};
  if (::access(path.c_str(), W_OK) != 0)
    return path + " is not writable (" + std::strerror(errno) + ")";
  return {};
}

} // namespace zaki
