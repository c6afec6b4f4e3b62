#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/verb.hpp>

namespace zaki {

/// The parts of a request head the client sends; all views into the job.
struct request_head {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::string_view target;
  std::string_view host;
  /// Value of the Authorization header, or empty for none.
  std::string_view authorization;
  std::string_view content_type;
  size_t body_size = 0;
};

/// Returns the delay a Retry-After value asks for, in seconds from `now`
/// (Unix time): delay-seconds or an HTTP-date (RFC 9110, IMF-fixdate).
/// Returns 0 for no usable hint (garbage, a date in the past); caps at
/// 1,000,000.
int parse_retry_after(std::string_view value, int64_t now);

/// Returns whether `value` may be sent in a request line or a header field:
/// no CR, LF or NUL, which would split the head and inject fields.
bool safe_header_value(std::string_view value);

/// Writes the HTTP/1.1 request head for `head` into `out` (cleared first),
/// ending with the empty line, as one contiguous string: Host, User-Agent,
/// Authorization, Content-Type and Content-Length, the latter two only when
/// there is a body or the method is POST (as Beast's `prepare_payload`).
/// Keep-alive is HTTP/1.1's default, so no Connection field is sent. The
/// head is built by hand because Beast's fields allocate one element per
/// field and its serializer walks a chain of buffer views per write: both
/// showed up per message in the load bench. Values must be
/// `safe_header_value`.
void write_request_head(const request_head& head, std::string& out);

/// A response parser that keeps only what the client reports: the status,
/// Retry-After and the body. Beast's `response_parser` stores every field
/// in an allocated element; this one allocates nothing but the body. The
/// body limit is checked here as the body arrives, including the bytes that
/// come with the header (Boost 1.74's parser skips its own limit for those,
/// boostorg/beast#2183).
class response_reader : public boost::beast::http::basic_parser<false> {
public:
  /// Creates a reader that accepts bodies up to `max_body` bytes.
  explicit response_reader(uint64_t max_body);

  /// Returns the status code (0 until the status line arrived).
  int status() const {
    return status_;
  }

  /// Returns the Retry-After value in seconds, or 0 when absent or a date.
  int retry_after() const {
    return retry_after_;
  }

  /// Returns the body received so far.
  std::string& body() {
    return body_;
  }

private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override;
  void on_response_impl(int code, string_view reason, int version,
                        error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string,
                     string_view value, error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<uint64_t>& content_length,
                         error_code& ec) override;
  size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(uint64_t size, string_view extensions,
                            error_code& ec) override;
  size_t on_chunk_body_impl(uint64_t remain, string_view body,
                            error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  uint64_t max_body_;
  int status_ = 0;
  int retry_after_ = 0;
  std::string body_;
};

} // namespace zaki
