#include "http/wire.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

namespace zaki {

namespace http = boost::beast::http;

bool safe_header_value(std::string_view value) {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      return false;
  return true;
}

int parse_retry_after(std::string_view value, int64_t now) {
  constexpr int64_t cap = 1'000'000;
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  if (value.empty())
    return 0;
  if (value.front() >= '0' && value.front() <= '9') {
    int64_t secs = 0;
    for (char c : value) {
      if (c < '0' || c > '9')
        break;
      if (secs < cap)
        secs = secs * 10 + (c - '0');
    }
    return static_cast<int>(std::min(secs, cap));
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", parsed by hand (strptime
  // depends on the locale).
  if (value.size() < 29 || value[3] != ',' || value.substr(26, 3) != "GMT")
    return 0;
  auto num = [&value](size_t pos, size_t len, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (value[i] < '0' || value[i] > '9')
        return false;
      out = out * 10 + (value[i] - '0');
    }
    return true;
  };
  static constexpr std::string_view months
    = "JanFebMarAprMayJunJulAugSepOctNovDec";
  auto month_pos = months.find(value.substr(8, 3));
  int day = 0;
  int year = 0;
  int hh = 0;
  int mm = 0;
  int ss = 0;
  if (month_pos == std::string_view::npos || month_pos % 3 != 0
      || !num(5, 2, day) || !num(12, 4, year) || !num(17, 2, hh)
      || !num(20, 2, mm) || !num(23, 2, ss) || day < 1 || day > 31 || hh > 23
      || mm > 59 || ss > 60)
    return 0;
  // Days from the civil date (Howard Hinnant's algorithm), no timegm.
  int m = static_cast<int>(month_pos / 3) + 1;
  int y = year - (m <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  int64_t when = days * 86400 + hh * 3600 + mm * 60 + ss;
  if (when <= now)
    return 0;
  return static_cast<int>(std::min(when - now, cap));
}

namespace {

void append_field(std::string& out, std::string_view name,
                  std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

} // namespace

void write_request_head(const request_head& head, std::string& out) {
  constexpr std::string_view agent = "zaki-router";
  auto method = http::to_string(head.method);
  bool with_length = head.body_size > 0 || head.method == http::verb::post;
  auto length = std::to_string(head.body_size);
  out.clear();
  out.reserve(method.size() + head.target.size() + head.host.size()
              + head.authorization.size() + head.content_type.size()
              + length.size() + agent.size() + 120);
  out.append(method.data(), method.size());
  out.push_back(' ');
  out.append(head.target);
  out.append(" HTTP/1.1\r\n", 11);
  append_field(out, "Host", head.host);
  append_field(out, "User-Agent", agent);
  if (!head.authorization.empty())
    append_field(out, "Authorization", head.authorization);
  if (with_length) {
    append_field(out, "Content-Type", head.content_type);
    append_field(out, "Content-Length", length);
  }
  out.append("\r\n", 2);
}

// -- response_reader -----------------------------------------------------------

response_reader::response_reader(uint64_t max_body) : max_body_(max_body) {
  // The limit is enforced by this class; Beast's own would skip some bytes.
  // (Not boost::none: Boost 1.74 compares a Content-Length with an empty
  // optional as if the limit were exceeded.)
  body_limit(std::numeric_limits<uint64_t>::max());
}

void response_reader::on_request_impl(http::verb, string_view, string_view, int,
                                      error_code& ec) {
  // Never called for a response parser.
  ec = http::error::bad_method;
}

void response_reader::on_response_impl(int code, string_view, int,
                                       error_code&) {
  status_ = code;
}

void response_reader::on_field_impl(http::field name, string_view,
                                    string_view value, error_code&) {
  if (name != http::field::retry_after)
    return;
  // Delay-seconds or an HTTP-date, which a gateway behind a proxy may send.
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  retry_after_ = parse_retry_after(std::string_view{value.data(), value.size()},
                                   now);
}

void response_reader::on_header_impl(error_code&) {
  // nop
}

void response_reader::on_body_init_impl(
  const boost::optional<uint64_t>& content_length, error_code& ec) {
  if (!content_length || streaming())
    return;
  if (*content_length > max_body_) {
    ec = http::error::body_limit;
    return;
  }
  body_.reserve(static_cast<size_t>(*content_length));
}

size_t response_reader::on_body_impl(string_view body, error_code& ec) {
  if (streaming()) {
    if (!(*sink_)(std::string_view{body.data(), body.size()})) {
      sink_aborted_ = true;
      ec = boost::asio::error::operation_aborted;
      return 0;
    }
    return body.size();
  }
  if (body.size() > max_body_ - body_.size()) {
    ec = http::error::body_limit;
    return 0;
  }
  body_.append(body.data(), body.size());
  return body.size();
}

void response_reader::on_chunk_header_impl(uint64_t size, string_view,
                                           error_code& ec) {
  if (!streaming() && size > max_body_ - body_.size())
    ec = http::error::body_limit;
}

size_t response_reader::on_chunk_body_impl(uint64_t, string_view body,
                                           error_code& ec) {
  return on_body_impl(body, ec);
}

void response_reader::on_finish_impl(error_code&) {
  // nop
}

} // namespace zaki
