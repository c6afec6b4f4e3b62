#pragma once

#include <string>
#include <string_view>

namespace zaki {

/// Writes `content` to the file `name` of the directory `dirfd` atomically
/// and durably: a temporary ".<name>.tmp.<pid>" (mode 0600, created
/// exclusively, never through a symlink) is written and synced, renamed
/// over `name`, and the directory is synced. Returns "" or an error text
/// ("cannot create|write|sync|rename <temp>: <reason>"); the temporary file
/// never outlives a failure.
std::string write_file_atomically_at(int dirfd, const std::string& name,
                                     std::string_view content);

/// Writes `content` to `path` atomically and durably, as
/// write_file_atomically_at does in the directory of `path`.
std::string write_file_atomically(const std::string& path,
                                  std::string_view content);

} // namespace zaki
