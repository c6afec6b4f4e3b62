#include "media/outbox.hpp"

#include <fstream>
#include <sstream>

#include <boost/asio/post.hpp>
#include <sys/stat.h>

#include "http/client.hpp"
#include "http/url.hpp"
#include "media/file_name.hpp"
#include "storage/user_paths.hpp"

namespace zaki {

std::vector<file_link> extract_file_links(std::string_view answer,
                                          std::string& text_out) {
  std::vector<file_link> links;
  text_out.clear();
  size_t pos = 0;
  while (pos < answer.size()) {
    auto marker = answer.find("](file:", pos);
    if (marker == std::string_view::npos)
      break;
    auto open = answer.rfind('[', marker);
    auto close = answer.find(')', marker);
    if (open == std::string_view::npos || open < pos
        || close == std::string_view::npos) {
      text_out.append(answer.substr(pos, marker + 7 - pos));
      pos = marker + 7;
      continue;
    }
    file_link link;
    link.label = std::string{answer.substr(open + 1, marker - open - 1)};
    link.path = std::string{answer.substr(marker + 7, close - marker - 7)};
    text_out.append(answer.substr(pos, open - pos));
    text_out += link.label.empty() ? link.path : link.label;
    links.push_back(std::move(link));
    pos = close + 1;
  }
  text_out.append(answer.substr(std::min(pos, answer.size())));
  return links;
}

std::string resolve_user_file(const std::string& user_dir,
                              std::string_view link_path, std::string& error) {
  std::string rel{link_path};
  while (rel.rfind("./", 0) == 0)
    rel.erase(0, 2);
  if (rel.empty() || rel.front() == '/' || rel.find('\0') != std::string::npos
      || rel.size() > 1024) {
    error = "it is not a path inside your data directory";
    return {};
  }
  auto path = user_dir + "/" + rel;
  if (auto why = check_path_in_root(user_dir, path); !why.empty()) {
    error = "it is outside your data directory";
    return {};
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "there is no such file";
    return {};
  }
  return path;
}

std::string encode_document_upload(std::string_view file_name,
                                   std::string_view bytes) {
  if (bytes.find(upload_boundary) != std::string_view::npos)
    return {};
  // The name goes into a header: quotes and line breaks are replaced.
  std::string name;
  for (char c : file_name)
    name += (c == '"' || c == '\r' || c == '\n' || c == '\\') ? '_' : c;
  std::string out;
  out.reserve(bytes.size() + 256);
  out += "--";
  out += upload_boundary;
  out += "\r\nContent-Disposition: form-data; name=\"document\"; filename=\"";
  out += name;
  out += "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
  out += bytes;
  out += "\r\n--";
  out += upload_boundary;
  out += "--\r\n";
  return out;
}

void send_document(boost::asio::io_context& ioc,
                   std::shared_ptr<boost::asio::ssl::context> tls,
                   const std::string& api_root, const std::string& token,
                   int64_t chat_id, std::string path, std::string file_name,
                   uint64_t max_bytes, std::chrono::milliseconds timeout,
                   std::function<void(http_result)> done) {
  auto where = parse_origin(api_root);
  if (!where) {
    http_result res;
    res.failure = http_failure::other;
    res.error = "bad telegram.api-root";
    return done(std::move(res));
  }
  // The file is read on the I/O thread, never on an actor's.
  boost::asio::post(
    ioc,
    [&ioc, tls, where = *where,
     target = "/bot" + token
       + "/sendDocument?chat_id=" + std::to_string(chat_id),
     path = std::move(path), file_name = std::move(file_name), max_bytes,
     timeout, done = std::move(done)]() mutable {
      http_result res;
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) {
        res.failure = http_failure::other;
        res.error = "cannot read the file";
        return done(std::move(res));
      }
      if (static_cast<uint64_t>(st.st_size) > max_bytes) {
        res.status = 413;
        res.error = "file of " + std::to_string(st.st_size) + " bytes";
        return done(std::move(res));
      }
      std::ifstream in{path, std::ios::binary};
      std::stringstream ss;
      ss << in.rdbuf();
      auto body = encode_document_upload(file_name, ss.str());
      if (!in || body.empty()) {
        res.failure = http_failure::other;
        res.error = "cannot read the file";
        return done(std::move(res));
      }
      http_client_options opts;
      opts.tls = std::move(tls);
      auto client = http_client::make(ioc, where, opts);
      http_request_spec req;
      req.target = std::move(target);
      req.body = std::move(body);
      req.content_type
        = "multipart/form-data; boundary=zaki-upload-5b1f0c2e9d7a4e63";
      req.timeout = timeout;
      client->async_request(std::move(req),
                            [client, done = std::move(done)](http_result r) {
                              done(std::move(r));
                            });
    });
}

} // namespace zaki
