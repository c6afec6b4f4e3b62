#include "media/bot_identity.hpp"

#include <future>

#include <simdjson.h>

#include "http/client.hpp"
#include "http/url.hpp"
#include "json/parse.hpp"

namespace zaki {

std::string decode_get_me_username(std::string& body) {
  pad_for_simdjson(body);
  simdjson::ondemand::document doc;
  if (thread_ondemand_parser().iterate(body).get(doc))
    return {};
  std::string_view name;
  if (doc["result"]["username"].get_string().get(name))
    return {};
  return std::string{name};
}

bot_identity fetch_bot_identity(boost::asio::io_context& ioc,
                                std::shared_ptr<boost::asio::ssl::context> tls,
                                const std::string& api_root,
                                const std::string& token,
                                std::chrono::milliseconds deadline) {
  bot_identity out;
  auto where = parse_origin(api_root);
  if (!where) {
    out.error = "bad telegram.api-root";
    return out;
  }
  http_client_options opts;
  opts.tls = std::move(tls);
  opts.max_body = 64 << 10;
  auto client = http_client::make(ioc, *where, opts);
  auto done = std::make_shared<std::promise<http_result>>();
  auto result = done->get_future();
  http_request_spec req;
  req.target = "/bot" + token + "/getMe";
  req.body = "{}";
  req.timeout = deadline;
  client->async_request(std::move(req), [done](http_result res) {
    done->set_value(std::move(res));
  });
  if (result.wait_for(deadline + std::chrono::seconds(1))
      != std::future_status::ready) {
    client->shutdown();
    out.error = "getMe timed out";
    return out;
  }
  auto res = result.get();
  client->shutdown();
  if (!res.ok()) {
    out.error = res.status == 0
      ? res.error
      : "getMe answered " + std::to_string(res.status);
    return out;
  }
  out.username = decode_get_me_username(res.body);
  if (out.username.empty())
    out.error = "getMe answer without a username";
  return out;
}

} // namespace zaki
