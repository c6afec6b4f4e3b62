#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "messages/types.hpp"

namespace zaki {

/// A file an assistant's answer names with `[label](file:path)`.
struct file_link {
  std::string label;
  /// The path after `file:`, relative to the user's data dir.
  std::string path;
};

/// Returns the file links of `answer` in order, and `answer` with each
/// link replaced by its label (so Telegram never sees a file: URL).
std::vector<file_link> extract_file_links(std::string_view answer,
                                          std::string& text_out);

/// Returns the absolute path of `link_path` inside `user_dir`, or empty
/// with `error` set (a readable reason for the user) when it is absolute,
/// climbs out with `..`, passes a symlink, or names no regular file.
std::string resolve_user_file(const std::string& user_dir,
                              std::string_view link_path, std::string& error);

/// The multipart boundary of sendDocument uploads (a literal: the HTTP
/// client takes the content type by reference).
constexpr std::string_view upload_boundary = "zaki-upload-5b1f0c2e9d7a4e63";

/// Returns the multipart/form-data body of a sendDocument upload of
/// `bytes` as `file_name`, or empty when the bytes contain the boundary.
std::string encode_document_upload(std::string_view file_name,
                                   std::string_view bytes);

/// Reads `path` (at most `max_bytes`) and uploads it with sendDocument to
/// `chat_id` on the I/O threads; `done` gets the result (status 413 when
/// the file is over the limit, 0 with `error` when it cannot be read).
void send_document(boost::asio::io_context& ioc,
                   std::shared_ptr<boost::asio::ssl::context> tls,
                   const std::string& api_root, const std::string& token,
                   int64_t chat_id, std::string path, std::string file_name,
                   uint64_t max_bytes, std::chrono::milliseconds timeout,
                   std::function<void(http_result)> done);

} // namespace zaki
