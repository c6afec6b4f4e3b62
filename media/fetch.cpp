#include "media/fetch.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <openssl/evp.h>
#include <simdjson.h>

#include "http/client.hpp"
#include "http/url.hpp"
#include "json/parse.hpp"
#include "json/writer.hpp"

namespace zaki {

namespace {

namespace http = boost::beast::http;
namespace od = simdjson::ondemand;

/// Admits at most `max` fetches of the process at once; the rest wait in
/// order. Shared by all users, so one user's burst cannot starve the Bot
/// API connections of the others for long.
class download_gate {
public:
  static download_gate& instance() {
    static download_gate gate;
    return gate;
  }

  void enter(uint64_t max, std::function<void()> start) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (running_ >= max) {
        waiting_.push_back(std::move(start));
        return;
      }
      ++running_;
    }
    start();
  }

  void leave() {
    std::function<void()> next;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (waiting_.empty()) {
        --running_;
        return;
      }
      next = std::move(waiting_.front());
      waiting_.pop_front();
    }
    next();
  }

private:
  std::mutex mtx_;
  uint64_t running_ = 0;
  std::deque<std::function<void()>> waiting_;
};

/// Saved files are written here, off the I/O threads: a 20 MB write and
/// its fsync would stall every connection of the thread meanwhile. One
/// thread: saves are rare and the disk does one at a time anyway.
boost::asio::thread_pool& file_writer() {
  static boost::asio::thread_pool pool{1};
  return pool;
}

struct getfile_answer {
  bool ok = false;
  std::string path;
  int64_t size = 0;
  std::string description;
};

getfile_answer decode_getfile(std::string& body) {
  getfile_answer out;
  pad_for_simdjson(body);
  od::document doc;
  if (thread_ondemand_parser().iterate(body).get(doc))
    return out;
  od::object root;
  if (doc.get_object().get(root))
    return out;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return out;
    if (key == "ok") {
      if (field.value().get_bool().get(out.ok))
        return out;
    } else if (key == "description") {
      std::string_view text;
      if (!field.value().get_string().get(text))
        out.description.assign(text.data(), text.size());
    } else if (key == "result") {
      od::object res;
      if (field.value().get_object().get(res))
        continue;
      for (auto r : res) {
        std::string_view rkey;
        if (r.unescaped_key().get(rkey))
          break;
        std::string_view text;
        if (rkey == "file_path" && !r.value().get_string().get(text))
          out.path.assign(text.data(), text.size());
        else if (rkey == "file_size" && r.value().get_int64().get(out.size))
          out.size = 0;
      }
    }
  }
  return out;
}

/// One fetch in flight: owns its client until the end.
struct fetch_job : std::enable_shared_from_this<fetch_job> {
  fetch_request req;
  std::shared_ptr<http_client> client;
  std::function<void(http_result)> done;
  std::chrono::steady_clock::time_point started
    = std::chrono::steady_clock::now();

  void finish(http_result res) {
    // The client goes with the job: its connections are idle by now.
    res.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
    auto cb = std::move(done);
    download_gate::instance().leave();
    cb(std::move(res));
  }

  std::chrono::milliseconds left() const {
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
    return std::max(std::chrono::milliseconds{1}, req.timeout - spent);
  }

  void start() {
    http_request_spec spec;
    spec.target = "/bot" + req.token + "/getFile";
    json_writer w;
    w.begin_object().field("file_id", req.file_id).end_object();
    spec.body = w.take();
    spec.timeout = left();
    client->async_request(std::move(spec),
                          [self = shared_from_this()](http_result res) {
                            self->on_getfile(std::move(res));
                          });
  }

  void on_getfile(http_result res) {
    if (res.status == 0)
      return finish(std::move(res));
    auto answer = decode_getfile(res.body);
    if (!res.ok() || !answer.ok || answer.path.empty()) {
      http_result out;
      out.status = res.ok() ? 502 : res.status;
      out.error = "getFile: "
        + (answer.description.empty() ? std::string{"no file_path"}
                                      : answer.description);
      return finish(std::move(out));
    }
    if (answer.size > 0 && static_cast<uint64_t>(answer.size) > req.max_bytes) {
      http_result out;
      out.status = fetch_status::too_large;
      out.error = "file of " + std::to_string(answer.size) + " bytes";
      return finish(std::move(out));
    }
    if (!safe_file_path(answer.path)) {
      http_result out;
      out.status = fetch_status::forged_path;
      out.error = "getFile returned an unsafe file_path";
      return finish(std::move(out));
    }
    http_request_spec spec;
    spec.method = http::verb::get;
    spec.target = "/file/bot" + req.token + "/" + answer.path;
    spec.timeout = left();
    client->async_request(std::move(spec),
                          [self = shared_from_this()](http_result res) {
                            self->on_file(std::move(res));
                          });
  }

  void on_file(http_result res) {
    if (res.failure == http_failure::too_large) {
      http_result out;
      out.status = fetch_status::too_large;
      out.error = "file larger than the limit";
      return finish(std::move(out));
    }
    if (!res.ok()) {
      if (res.status != 0)
        res.error = "file endpoint answered " + std::to_string(res.status);
      res.body.clear();
      return finish(std::move(res));
    }
    if (req.save_dir.empty())
      return finish(std::move(res));
    boost::asio::post(
      file_writer(),
      [self = shared_from_this(), body = std::move(res.body)]() mutable {
        auto out = self->save(body);
        // Back on the I/O thread: the job and its client end there.
        boost::asio::post(*self->ioc, [self, out = std::move(out)]() mutable {
          self->finish(std::move(out));
        });
      });
  }

  /// Checks the quota and saves the file (on the file writer's thread).
  http_result save(const std::string& body) {
    http_result out;
    if (req.quota_bytes > 0) {
      auto used = dir_size(req.quota_dir);
      if (used + body.size() > req.quota_bytes) {
        out.status = fetch_status::over_quota;
        out.error = "storage quota: " + std::to_string(used) + " of "
          + std::to_string(req.quota_bytes) + " bytes used, the file has "
          + std::to_string(body.size());
        return out;
      }
    }
    std::string error;
    auto name = save_file_atomically(req.save_dir, req.save_name, body, error);
    if (name.empty()) {
      out.status = fetch_status::save_failed;
      out.error = error;
    } else {
      out.status = 200;
      out.body = std::move(name);
    }
    return out;
  }

  boost::asio::io_context* ioc = nullptr;
};

bool make_dirs(const std::string& dir) {
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at < dir.size() && dir[at] != '/')
      continue;
    auto part = dir.substr(0, at);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return false;
  }
  return true;
}

std::string with_suffix(const std::string& name, int n) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0)
    return name + "-" + std::to_string(n);
  return name.substr(0, dot) + "-" + std::to_string(n) + name.substr(dot);
}

} // namespace

bool safe_file_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.size() > 1024)
    return false;
  if (path.find("..") != std::string_view::npos)
    return false;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7F || c == '?' || c == '#' || c == '%' || c == '\\')
      return false;
  }
  return true;
}

std::string save_file_atomically(const std::string& dir,
                                 const std::string& name,
                                 std::string_view bytes, std::string& error) {
  if (!make_dirs(dir)) {
    error = std::string{"cannot create the inbox: "} + std::strerror(errno);
    return {};
  }
  auto tmp = dir + "/.part-" + std::to_string(::getpid()) + "-"
    + std::to_string(reinterpret_cast<uintptr_t>(bytes.data()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = std::string{"cannot create a file: "} + std::strerror(errno);
    return {};
  }
  size_t written = 0;
  while (written < bytes.size()) {
    auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = std::string{"cannot write the file: "} + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return {};
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    error = std::string{"cannot write the file: "} + std::strerror(errno);
    ::unlink(tmp.c_str());
    return {};
  }
  for (int n = 0; n < 1000; ++n) {
    auto final_name = n == 0 ? name : with_suffix(name, n);
    auto path = dir + "/" + final_name;
    // link() refuses an existing name, unlike rename(): no file of the
    // user's is ever replaced.
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return final_name;
    }
    if (errno != EEXIST)
      break;
  }
  error = std::string{"cannot name the file: "} + std::strerror(errno);
  ::unlink(tmp.c_str());
  return {};
}

uint64_t dir_size(const std::string& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it{
    dir, fs::directory_options::skip_permission_denied, ec};
  for (; !ec && it != fs::recursive_directory_iterator{}; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      auto n = it->file_size(size_ec);
      if (!size_ec)
        total += n;
    }
  }
  return total;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.resize(4 * ((bytes.size() + 2) / 3));
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

void fetch_file(boost::asio::io_context& ioc,
                std::shared_ptr<boost::asio::ssl::context> tls,
                fetch_request req, uint64_t max_concurrent,
                std::function<void(http_result)> done) {
  auto where = parse_origin(req.api_root);
  if (!where) {
    http_result res;
    res.failure = http_failure::other;
    res.error = "bad telegram.api-root";
    done(std::move(res));
    return;
  }
  auto job = std::make_shared<fetch_job>();
  job->ioc = &ioc;
  http_client_options opts;
  opts.max_connections = 1;
  // The getFile answer is small; the file is bounded by the limit.
  opts.max_body = req.max_bytes + 1;
  opts.tls = std::move(tls);
  job->client = http_client::make(ioc, *where, opts);
  job->req = std::move(req);
  job->done = std::move(done);
  download_gate::instance().enter(max_concurrent, [job] {
    job->start();
  });
}

} // namespace zaki
