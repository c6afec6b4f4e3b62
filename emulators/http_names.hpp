#pragma once

#include "http/server.hpp"
#include "runtime/io_runtime.hpp"

// The fakes' short names for the router's HTTP server (runtime/
// http_server.hpp), which started out here as the fakes' own server. The
// relative include keeps zaki-test-gateway, which has no include path to the
// repository root, compiling.

namespace zaki::fakes {

namespace net = boost::asio;
namespace http = boost::beast::http;

using request = zaki::http_request;
using response = zaki::http_response;
using responder = zaki::http_responder;
using handler = zaki::http_handler;
using server_options = zaki::http_server_options;
using mini_http_server = zaki::http_server;
using zaki::io_runtime;
using zaki::io_start;
using zaki::to_sv;

/// Returns a response with the given status, body and content type.
inline response
make_response(http::status status, std::string body,
              std::string_view content_type = "application/json") {
  return zaki::make_http_response(status, std::move(body), content_type);
}

} // namespace zaki::fakes
