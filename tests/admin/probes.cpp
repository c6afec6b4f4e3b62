#define CAF_SUITE admin.probes
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/fixtures/admin_fixture.hpp"

// The health probes under connection exhaustion: 80 sustained slow-header
// connections, then 1,000 idle ones, against an admin server limited to 64
// connections. Before, only 1 of 71 liveness probes was answered under the
// first attack (21 of 41 under the second): a kubelet would have restarted
// a healthy router. The server now makes room for a newcomer by closing
// the connection that waited longest for a request head.

using namespace zaki;
using namespace std::chrono;

namespace {

/// Raw sockets held open against the admin port by a thread of their own;
/// closed ones are opened again (a sustained attack: otherwise the server's
/// request deadline alone would clear them). Slow ones send one
/// header byte every 100 ms and never finish the head.
class attacker {
public:
  attacker(uint16_t port, size_t count, bool slow)
    : port_(port), slow_(slow), fds_(count, -1) {
    for (auto& fd : fds_)
      fd = open_one();
    worker_ = std::thread{[this] {
      loop();
    }};
  }

  ~attacker() {
    stop_ = true;
    worker_.join();
    for (auto fd : fds_)
      if (fd >= 0)
        ::close(fd);
  }

  /// Returns how many sockets are connected right now.
  size_t open() const {
    return open_.load();
  }

private:
  int open_one() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
      return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    if (slow_)
      ::send(fd, "GET /health/live HTTP/1.1\r\nX-Slow: ", 35, MSG_NOSIGNAL);
    return fd;
  }

  void loop() {
    while (!stop_) {
      size_t n = 0;
      // Bounded reconnects (200/s), as a client pool would: a tighter
      // loop measures the machine's accept rate, not the server's policy.
      size_t reopen = 20;
      for (auto& fd : fds_) {
        if (fd >= 0) {
          pollfd p{fd, POLLIN, 0};
          char c;
          if (::poll(&p, 1, 0) > 0 && ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0) {
            ::close(fd); // closed by the server: come back
            fd = -1;
          } else if (slow_) {
            ::send(fd, "a", 1, MSG_NOSIGNAL);
          }
        }
        if (fd < 0 && reopen > 0) {
          --reopen;
          fd = open_one();
        }
        n += fd >= 0 ? 1 : 0;
      }
      open_ = n;
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  uint16_t port_;
  bool slow_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> open_{0};
  std::thread worker_;
};

void raise_descriptor_limit() {
  rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

/// Sends `n` probes of each kind, one after the other; returns how many got
/// their answer.
size_t probes_answered(test::admin_fixture& f, size_t n) {
  size_t answered = 0;
  for (size_t i = 0; i < n; ++i)
    for (auto path : {"/health/live", "/health/startup", "/health/ready"}) {
      auto r = f.call(boost::beast::http::verb::get, path, {}, seconds(3));
      if (r.status == 200)
        ++answered;
      else
        CAF_MESSAGE(path << " answered " << r.status);
    }
  return answered;
}

} // namespace

CAF_TEST(probes are answered under sustained slow header connections) {
  test::admin_fixture f;
  f.cfg.values.admin.max_connections = 64;
  f.start();
  CAF_REQUIRE_NOT_EQUAL(f.port, 0);
  attacker slowloris{f.port, 80, true};
  std::this_thread::sleep_for(milliseconds(300));
  CAF_MESSAGE(slowloris.open() << " slow connections open");
  CAF_CHECK_EQUAL(probes_answered(f, 10), 30u);
}

CAF_TEST(probes are answered under a thousand idle connections) {
  raise_descriptor_limit();
  test::admin_fixture f;
  f.cfg.values.admin.max_connections = 64;
  f.start();
  CAF_REQUIRE_NOT_EQUAL(f.port, 0);
  attacker idle{f.port, 1000, false};
  std::this_thread::sleep_for(milliseconds(300));
  CAF_MESSAGE(idle.open() << " idle connections open");
  CAF_CHECK_EQUAL(probes_answered(f, 10), 30u);
}
