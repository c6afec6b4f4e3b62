#define CAF_SUITE http.tls
#include "caf/test/unit_test.hpp"

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "http/client.hpp"
#include "runtime/io_runtime.hpp"

// HTTPS as the router speaks it to api.telegram.org: certificate
// verification (against a CA the test generates at runtime), host name
// checks, SNI, and a refusal with http_failure::tls for a wrong CA.

using namespace zaki;
using namespace std::chrono;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// -- certificates ---------------------------------------------------------------

using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using cert_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

key_ptr make_key() {
  return key_ptr{EVP_EC_gen("P-256"), &EVP_PKEY_free};
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  auto ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  CAF_REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// Creates a certificate for `key` named `cn`, signed by `issuer_key` (and
/// issued by `issuer`, or self-signed when null).
cert_ptr make_cert(EVP_PKEY* key, const char* cn, X509* issuer,
                   EVP_PKEY* issuer_key, bool ca, const char* san) {
  static long serial = 1;
  cert_ptr cert{X509_new(), &X509_free};
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  auto name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1,
                             0);
  auto issuer_cert = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  if (ca) {
    add_ext(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), issuer_cert, NID_key_usage,
            "critical,keyCertSign,cRLSign");
    add_ext(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  } else {
    add_ext(cert.get(), issuer_cert, NID_basic_constraints,
            "critical,CA:FALSE");
    add_ext(cert.get(), issuer_cert, NID_key_usage,
            "critical,digitalSignature,keyEncipherment");
    add_ext(cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), issuer_cert, NID_subject_alt_name, san);
  }
  CAF_REQUIRE(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0);
  return cert;
}

std::string pem(X509* cert) {
  auto bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  std::string out{data, static_cast<size_t>(n)};
  BIO_free(bio);
  return out;
}

std::string pem(EVP_PKEY* key) {
  auto bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  std::string out{data, static_cast<size_t>(n)};
  BIO_free(bio);
  return out;
}

// -- a TLS server ------------------------------------------------------------------

/// Serves HTTPS on 127.0.0.1 with one certificate; answers every request
/// with 200 and records the SNI names it saw.
class tls_server {
public:
  tls_server(const std::string& cert_pem, const std::string& key_pem)
    : ctx_(ssl::context::tls_server),
      acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    ctx_.use_certificate_chain(net::buffer(cert_pem));
    ctx_.use_private_key(net::buffer(key_pem), ssl::context::pem);
    SSL_CTX_set_tlsext_servername_callback(ctx_.native_handle(), &on_sni);
    SSL_CTX_set_tlsext_servername_arg(ctx_.native_handle(), this);
    accept();
    thread_ = std::thread{[this] {
      ioc_.run();
    }};
  }

  ~tls_server() {
    net::post(ioc_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    ioc_.stop();
    thread_.join();
  }

  uint16_t port() const {
    return acceptor_.local_endpoint().port();
  }

  std::vector<std::string> sni() {
    std::lock_guard<std::mutex> guard{mtx_};
    return sni_;
  }

  int handshakes_ok() const {
    return ok_.load();
  }

  int handshakes_failed() const {
    return failed_.load();
  }

private:
  struct session : std::enable_shared_from_this<session> {
    session(tcp::socket sock, ssl::context& ctx, tls_server* owner)
      : stream(std::move(sock), ctx), owner(owner) {
    }
    void start() {
      stream.async_handshake(ssl::stream_base::server,
                             [self = shared_from_this()](auto ec) {
                               if (ec) {
                                 ++self->owner->failed_;
                                 return;
                               }
                               ++self->owner->ok_;
                               self->read();
                             });
    }
    void read() {
      req = {};
      http::async_read(stream, buf, req,
                       [self = shared_from_this()](auto ec, size_t) {
                         if (ec)
                           return;
                         self->write();
                       });
    }
    void write() {
      res = {http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = R"({"ok":true,"result":"tls"})";
      res.prepare_payload();
      http::async_write(stream, res,
                        [self = shared_from_this()](auto ec, size_t) {
                          if (!ec)
                            self->read();
                        });
    }
    ssl::stream<tcp::socket> stream;
    tls_server* owner;
    boost::beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
  };

  static int on_sni(SSL* ssl, int*, void* arg) {
    auto self = static_cast<tls_server*>(arg);
    auto name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::lock_guard<std::mutex> guard{self->mtx_};
    self->sni_.push_back(name ? name : "");
    return SSL_TLSEXT_ERR_OK;
  }

  void accept() {
    acceptor_.async_accept([this](auto ec, tcp::socket sock) {
      if (ec)
        return;
      std::make_shared<session>(std::move(sock), ctx_, this)->start();
      accept();
    });
  }

  net::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mtx_;
  std::vector<std::string> sni_;
  std::atomic<int> ok_{0};
  std::atomic<int> failed_{0};
};

struct fixture {
  fixture()
    : ca_key(make_key()), ca(make_cert(ca_key.get(), "zaki test CA", nullptr,
                                       ca_key.get(), true, nullptr)),
      other_key(make_key()),
      other_ca(make_cert(other_key.get(), "zaki other CA", nullptr,
                         other_key.get(), true, nullptr)),
      server_key(make_key()),
      server_cert(make_cert(server_key.get(), "localhost", ca.get(),
                            ca_key.get(), false,
                            "DNS:localhost,IP:127.0.0.1")) {
    dir = std::filesystem::temp_directory_path()
      / ("zaki-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    ca_file = (dir / "ca.pem").string();
    other_ca_file = (dir / "other-ca.pem").string();
    std::ofstream{ca_file} << pem(ca.get());
    std::ofstream{other_ca_file} << pem(other_ca.get());
  }

  ~fixture() {
    io.stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  http_result fetch(const std::string& host, uint16_t port,
                    std::shared_ptr<ssl::context> tls) {
    origin where;
    where.tls = true;
    where.host = host;
    where.port = port;
    http_client_options opts;
    opts.tls = std::move(tls);
    auto client = http_client::make(io.context(), where, opts);
    http_request_spec req;
    req.target = "/bot123:x/getMe";
    req.timeout = seconds(5);
    auto p = std::make_shared<std::promise<http_result>>();
    auto f = p->get_future();
    client->async_request(req, [p](http_result r) {
      p->set_value(r);
    });
    if (f.wait_for(seconds(10)) != std::future_status::ready) {
      CAF_FAIL("no TLS result within 10 s");
    }
    auto res = f.get();
    // A second request reuses the verified connection.
    if (res.ok()) {
      auto p2 = std::make_shared<std::promise<http_result>>();
      auto f2 = p2->get_future();
      client->async_request(req, [p2](http_result r) {
        p2->set_value(r);
      });
      CAF_REQUIRE(f2.wait_for(seconds(10)) == std::future_status::ready);
      CAF_CHECK_EQUAL(f2.get().status, 200);
    }
    client->shutdown();
    return res;
  }

  key_ptr ca_key;
  cert_ptr ca;
  key_ptr other_key;
  cert_ptr other_ca;
  key_ptr server_key;
  cert_ptr server_cert;
  std::filesystem::path dir;
  std::string ca_file;
  std::string other_ca_file;
  io_runtime io{1};
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tls_tests, fixture)

CAF_TEST(verification succeeds with the test CA and SNI is sent) {
  tls_server srv{pem(server_cert.get()), pem(server_key.get())};
  auto res = fetch("localhost", srv.port(), make_tls_client_context(ca_file));
  CAF_MESSAGE("result: " << res.status << " " << res.error);
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK_EQUAL(res.body, R"({"ok":true,"result":"tls"})");
  auto names = srv.sni();
  CAF_REQUIRE_EQUAL(names.size(), 1u); // one handshake for two requests
  CAF_CHECK_EQUAL(names[0], "localhost");
  CAF_CHECK_EQUAL(srv.handshakes_ok(), 1);
}

CAF_TEST(an IP address host is checked against the IP SAN) {
  tls_server srv{pem(server_cert.get()), pem(server_key.get())};
  auto res = fetch("127.0.0.1", srv.port(), make_tls_client_context(ca_file));
  CAF_MESSAGE("result: " << res.status << " " << res.error);
  CAF_CHECK_EQUAL(res.status, 200);
}

CAF_TEST(a wrong CA is refused) {
  tls_server srv{pem(server_cert.get()), pem(server_key.get())};
  auto res = fetch("localhost", srv.port(),
                   make_tls_client_context(other_ca_file));
  CAF_MESSAGE("refused: " << res.error);
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.failure == http_failure::tls);
  CAF_CHECK_EQUAL(srv.handshakes_ok(), 0);
  // Without any extra CA the system store does not know the test CA either.
  res = fetch("localhost", srv.port(), make_tls_client_context(""));
  CAF_CHECK(res.failure == http_failure::tls);
}

CAF_TEST(a certificate for another name is refused) {
  auto key = make_key();
  auto cert = make_cert(key.get(), "example.org", ca.get(), ca_key.get(), false,
                        "DNS:example.org");
  tls_server srv{pem(cert.get()), pem(key.get())};
  auto res = fetch("localhost", srv.port(), make_tls_client_context(ca_file));
  CAF_MESSAGE("refused: " << res.error);
  CAF_CHECK(res.failure == http_failure::tls);
}

CAF_TEST(an unreadable CA file throws) {
  bool threw = false;
  try {
    make_tls_client_context((dir / "missing.pem").string());
  } catch (const std::exception&) {
    threw = true;
  }
  CAF_CHECK(threw);
}

CAF_TEST_FIXTURE_SCOPE_END()
