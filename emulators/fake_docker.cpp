#include "emulators/fake_docker.hpp"

#include <cstdio>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace zaki::fakes {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using local = net::local::stream_protocol;

struct fake_docker::session : std::enable_shared_from_this<session> {
  session(fake_docker& owner, local::socket sock)
    : owner(owner), sock(std::move(sock)) {
    // nop
  }

  fake_docker& owner;
  local::socket sock;
  beast::flat_buffer buf;
  http::request<http::string_body> req;
  std::string out;

  void read() {
    req = {};
    http::async_read(sock, buf, req,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec)
                         self->answer();
                     });
  }

  void answer() {
    std::string target{req.target()};
    auto path = target.substr(0, target.find('?'));
    auto key = std::string{req.method_string()} + " " + path;
    docker_reply reply{404, R"({"message":"page not found"})"};
    bool stream = path.size() >= 7
      && path.compare(path.size() - 7, 7, "/events") == 0;
    {
      std::lock_guard<std::mutex> guard{owner.mtx_};
      auto line = std::string{req.method_string()} + " " + target;
      if (!req.body().empty())
        line += "\n" + req.body();
      owner.requests_.push_back(std::move(line));
      std::deque<docker_reply>* best = nullptr;
      size_t best_len = 0;
      for (auto& [prefix, r] : owner.routes_)
        if (key.rfind(prefix, 0) == 0 && prefix.size() >= best_len
            && !r.empty()) {
          best_len = prefix.size();
          best = &r;
        }
      if (best != nullptr) {
        reply = best->front();
        if (best->size() > 1)
          best->pop_front();
        stream = false;
      }
      if (stream)
        owner.streams_.push_back(shared_from_this());
    }
    if (stream) {
      write_raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n",
                false);
      return;
    }
    if (reply.close) {
      beast::error_code ignored;
      sock.close(ignored);
      return;
    }
    if (!reply.raw.empty()) {
      write_raw(reply.raw, true);
      return;
    }
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(reply.status));
    res->set(http::field::content_type, "application/json");
    res->body() = reply.body;
    res->prepare_payload();
    http::async_write(sock, *res,
                      [self = shared_from_this(), res](beast::error_code ec,
                                                       size_t) {
                        if (!ec)
                          self->read();
                      });
  }

  void write_raw(std::string bytes, bool close_after) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    net::async_write(sock, net::buffer(*data),
                     [self = shared_from_this(), data,
                      close_after](beast::error_code, size_t) {
                       if (close_after) {
                         beast::error_code ignored;
                         self->sock.close(ignored);
                       }
                     });
  }
};

fake_docker::fake_docker(std::string socket_path)
  : path_(std::move(socket_path)), acceptor_(ioc_) {
  ::unlink(path_.c_str());
  acceptor_.open(local::endpoint{path_}.protocol());
  acceptor_.bind(local::endpoint{path_});
  acceptor_.listen();
  accept();
  thread_ = std::thread{[this] {
    ioc_.run();
  }};
}

fake_docker::~fake_docker() {
  net::post(ioc_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : streams_)
      s->sock.close(ignored);
    streams_.clear();
    ioc_.stop();
  });
  thread_.join();
  ::unlink(path_.c_str());
}

void fake_docker::accept() {
  acceptor_.async_accept([this](beast::error_code ec, local::socket sock) {
    if (ec)
      return;
    std::make_shared<session>(*this, std::move(sock))->read();
    accept();
  });
}

void fake_docker::on(const std::string& prefix, docker_reply reply) {
  std::lock_guard<std::mutex> guard{mtx_};
  routes_[prefix] = std::deque<docker_reply>{std::move(reply)};
}

void fake_docker::queue(const std::string& prefix, docker_reply reply) {
  std::lock_guard<std::mutex> guard{mtx_};
  routes_[prefix].push_back(std::move(reply));
}

void fake_docker::push_event(const std::string& line) {
  net::post(ioc_, [this, line] {
    std::vector<std::shared_ptr<session>> open;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      open = streams_;
    }
    auto payload = line + "\n";
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", payload.size());
    for (auto& s : open)
      s->write_raw(size + payload + "\r\n", false);
  });
}

std::vector<std::string> fake_docker::requests() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_;
}

size_t fake_docker::event_streams() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return streams_.size();
}

} // namespace zaki::fakes
