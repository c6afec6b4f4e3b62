#pragma once

#include <string>

namespace zaki {

/// Returns why the directory `dir` cannot take new files (missing, not a
/// directory, a read-only file system, no permission), or an empty string
/// when it can. One `stat` and one `access`: cheap enough for a readiness
/// probe and for explaining a failed write.
std::string unwritable_reason(const std::string& dir);

/// Returns why the existing file `path` cannot be written, or an empty
/// string when it can or does not exist.
std::string unwritable_file_reason(const std::string& path);

} // namespace zaki
