#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zaki {

/// Parses a Telegram user id as it may appear in a path or a command line:
/// 1 to 19 ASCII digits, a value above zero that fits `int64_t`. Signs,
/// spaces, dots and every other character are rejected, so nothing but a
/// plain number can ever become part of a path.
std::optional<int64_t> parse_user_id(std::string_view text);

/// Returns the name of a user's data directory, `user-{id}`.
std::string user_dir_name(int64_t id);

/// Returns `{data_root}/users/user-{id}`.
std::string user_data_dir(const std::string& data_root, int64_t id);

/// Checks that `path` lies lexically below `data_root` (no `.`, `..` or empty
/// components) and that no existing component below the root is a symlink,
/// using lstat only. The root itself may be a symlink: the operator chose it.
/// Returns an empty string when the path is safe, otherwise why it is not.
std::string check_path_in_root(const std::string& data_root,
                               const std::string& path);

/// Owns a file descriptor and closes it on destruction.
class unique_fd {
public:
  unique_fd() = default;

  explicit unique_fd(int fd) : fd_(fd) {
    // nop
  }

  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {
    // nop
  }

  unique_fd& operator=(unique_fd&& other) noexcept;

  unique_fd(const unique_fd&) = delete;

  unique_fd& operator=(const unique_fd&) = delete;

  ~unique_fd();

  /// Returns the descriptor, or -1.
  int get() const {
    return fd_;
  }

  /// Returns whether a descriptor is owned.
  explicit operator bool() const {
    return fd_ >= 0;
  }

  /// Gives up ownership without closing.
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  /// Closes the descriptor, if any.
  void reset() noexcept;

private:
  int fd_ = -1;
};

/// Opens `{data_root}/users/user-{id}` as a directory without following any
/// symlink below the root (openat with O_NOFOLLOW on every step), so a
/// symlinked `users` or user dir is refused instead of escaping the root.
/// With `create`, missing `users` and user directories are made (mode 0700).
/// On failure returns an empty fd and sets `error`.
unique_fd open_user_dir(const std::string& data_root, int64_t id, bool create,
                        std::string& error);

/// Opens `name` inside the directory `dirfd` as a directory, never following
/// a symlink. On failure returns an empty fd and sets `error` (naming `path`).
unique_fd open_subdir(int dirfd, const char* name, const std::string& path,
                      std::string& error);

} // namespace zaki
