#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace zaki::fakes {

/// A canned answer of the fake Engine API.
struct docker_reply {
  docker_reply() = default;

  docker_reply(int status, std::string body)
    : status(status), body(std::move(body)) {
    // nop
  }

  int status = 200;
  std::string body;
  /// Close the connection without answering (a daemon that dies).
  bool close = false;
  /// Write these bytes instead of an HTTP answer (a daemon that answers
  /// garbage), then close.
  std::string raw;
};

/// A fake Docker Engine API server on a unix socket, for the error paths
/// of the docker backend (404, 409, 500, a closed socket, garbage) and its
/// event stream. Runs its own I/O thread; answers by the longest matching
/// prefix of "METHOD /path" (query stripped); unknown routes get 404.
class fake_docker {
public:
  /// Listens on `socket_path` (removed first if it exists).
  explicit fake_docker(std::string socket_path);

  ~fake_docker();

  fake_docker(const fake_docker&) = delete;
  fake_docker& operator=(const fake_docker&) = delete;

  /// Sets the answer for requests matching `prefix`, e.g.
  /// "POST /v1.41/containers/create".
  void on(const std::string& prefix, docker_reply reply);

  /// Queues an answer: answers for `prefix` are used in order, the last
  /// one for every further request.
  void queue(const std::string& prefix, docker_reply reply);

  /// Sends one JSON line to every open /events stream.
  void push_event(const std::string& line);

  /// Returns the requests so far as "METHOD target" plus, for requests
  /// with a body, a newline and the body.
  std::vector<std::string> requests() const;

  /// Returns the number of /events streams opened so far.
  size_t event_streams() const;

  /// Returns the socket path.
  const std::string& path() const {
    return path_;
  }

  struct session;

private:
  void accept();

  friend struct session;

  std::string path_;
  boost::asio::io_context ioc_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  mutable std::mutex mtx_;
  std::map<std::string, std::deque<docker_reply>> routes_;
  std::vector<std::string> requests_;
  /// Open /events streams (kept alive here; closed by the destructor).
  std::vector<std::shared_ptr<session>> streams_;
  std::thread thread_;
};

} // namespace zaki::fakes
