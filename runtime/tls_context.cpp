#include "runtime/io_runtime.hpp"

#include <boost/asio/ssl/context.hpp>

// Apart from io_runtime.cpp, which the static zaki-test-gateway links
// without OpenSSL.

namespace zaki {

std::shared_ptr<boost::asio::ssl::context>
make_tls_client_context(const std::string& extra_ca_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                   | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                   | ssl::context::no_tlsv1_1);
  ctx->set_default_verify_paths();
  if (!extra_ca_file.empty())
    ctx->load_verify_file(extra_ca_file);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

} // namespace zaki
