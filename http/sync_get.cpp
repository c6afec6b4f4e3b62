#include "http/sync_get.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace zaki {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

sync_response
sync_request(const std::string& host, uint16_t port, http::verb method,
             const std::string& target, std::chrono::milliseconds deadline,
             const std::string& bearer, const std::string& user_agent) {
  sync_response result;
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) {
    result.error = "bad address " + host;
    return result;
  }
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, host);
  if (!user_agent.empty())
    req.set(http::field::user_agent, user_agent);
  if (!bearer.empty())
    req.set(http::field::authorization, "Bearer " + bearer);
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  // Async operations on a private context: Beast's deadlines only apply to
  // them, and a silent server must not hang the command.
  stream.expires_after(deadline);
  stream.async_connect(
    net::ip::tcp::endpoint{address, port}, [&](boost::system::error_code e) {
      if (e) {
        ec = e;
        return;
      }
      http::async_write(stream, req, [&](boost::system::error_code e, size_t) {
        if (e) {
          ec = e;
          return;
        }
        http::async_read(stream, buffer, res,
                         [&](boost::system::error_code e, size_t) {
                           ec = e;
                         });
      });
    });
  ioc.run();
  if (ec) {
    result.refused = ec == net::error::connection_refused;
    result.timed_out = ec == beast::error::timeout;
    result.error = ec.message();
    return result;
  }
  result.status = static_cast<int>(res.result_int());
  result.body = std::move(res.body());
  return result;
}

sync_response sync_get(const std::string& host, uint16_t port,
                       const std::string& target,
                       std::chrono::milliseconds deadline) {
  return sync_request(host, port, http::verb::get, target, deadline);
}

} // namespace zaki
