// The HTTP request parser of the admin listener (http/server.cpp): Beast's
// request_parser with the server's body and header limits, read from a
// stream that hands the input over in pieces, as a socket does, for as many
// pipelined requests as the input holds. The first three bytes pick the
// header limit, the body limit and the piece size, so that small inputs
// reach the limits.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "fuzz/fuzz_check.hpp"
#include "http/server.hpp"

namespace {

namespace http = boost::beast::http;

/// A SyncReadStream over the fuzz input, at most `piece` bytes per read.
class piecewise_stream {
public:
  piecewise_stream(std::string_view data, size_t piece)
    : data_(data), piece_(piece) {
    // nop
  }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers,
                   boost::system::error_code& ec) {
    if (data_.empty()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    ec = {};
    auto n = std::min(data_.size(), piece_);
    n = boost::asio::buffer_copy(buffers, boost::asio::buffer(data_.data(), n));
    data_.remove_prefix(n);
    return n;
  }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    auto n = read_some(buffers, ec);
    if (ec)
      throw boost::system::system_error{ec};
    return n;
  }

private:
  std::string_view data_;
  size_t piece_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3)
    return 0;
  uint32_t header_limit = 64 + data[0] * 16u;
  uint64_t body_limit = data[1] * 64u;
  size_t piece = 1 + data[2];
  piecewise_stream stream{
    std::string_view{reinterpret_cast<const char*>(data + 3), size - 3}, piece};
  boost::beast::flat_buffer buffer;
  // As http_session::do_read: a fresh parser per request, same buffer.
  for (int i = 0; i < 16; ++i) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    parser.header_limit(header_limit);
    boost::system::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec)
      break; // the session answers 413, 431 or 400, or closes
    auto req = parser.release();
    ZAKI_FUZZ_CHECK(req.body().size() <= body_limit);
    // What handlers read of every request.
    zaki::to_sv(req.target());
    zaki::to_sv(req.method_string());
    req.keep_alive();
    for (auto& field : req)
      zaki::to_sv(field.value());
    if (!req.keep_alive())
      break;
  }
  return 0;
}
