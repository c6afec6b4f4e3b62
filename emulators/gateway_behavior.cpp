#include "emulators/gateway_behavior.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "emulators/json_value.hpp"

// JSON is written with `append_json_string` (json_value.hpp) rather than
// zaki::json_writer: this file is also compiled into the static
// zaki-test-gateway, whose target has no include path to runtime/.

namespace zaki::fakes {

namespace {

using namespace std::chrono;

/// Finds "gw:<name>" in `text`; returns the text after it or nothing.
bool find_marker(const std::string& text, std::string_view name,
                 std::string_view* rest = nullptr) {
  std::string key = "gw:";
  key += name;
  auto pos = text.find(key);
  if (pos == std::string::npos)
    return false;
  if (rest)
    *rest = std::string_view{text}.substr(pos + key.size());
  return true;
}

/// Returns the number after "gw:<name>=" in `text`, or -1.
long long marker_value(const std::string& text, std::string_view name) {
  std::string_view rest;
  std::string with_eq{name};
  with_eq += '=';
  if (!find_marker(text, with_eq, &rest))
    return -1;
  long long v = 0;
  size_t i = 0;
  for (; i < rest.size() && i < 12 && rest[i] >= '0' && rest[i] <= '9'; ++i)
    v = v * 10 + (rest[i] - '0');
  return i == 0 ? -1 : v;
}

/// Returns the content of the last user message, or nothing.
std::optional<std::string> last_user_content(const json_value& body) {
  auto msgs = body.get("messages");
  if (!msgs || msgs->kind != json_value::array_kind)
    return std::nullopt;
  for (auto i = msgs->items.rbegin(); i != msgs->items.rend(); ++i) {
    auto role = i->get("role");
    auto content = i->get("content");
    if (!role || role->text != "user" || !content)
      continue;
    if (content->kind == json_value::string_kind)
      return content->text;
    if (content->kind == json_value::array_kind) {
      // OpenAI content parts: [{"type":"text","text":"..."}].
      // An image part is recorded (and echoed) as "[image:<url>]", cut
      // after 120 characters, so tests see what reached the gateway.
      std::string joined;
      for (auto& part : content->items) {
        if (auto t = part.get("text"); t && t->kind == json_value::string_kind)
          joined += t->text;
        auto img = part.get("image_url");
        auto url = img ? img->get("url") : nullptr;
        if (url && url->kind == json_value::string_kind)
          joined += (joined.empty() ? "[image:" : " [image:")
            + url->text.substr(0, 120) + "]";
      }
      return joined;
    }
  }
  return std::nullopt;
}

bool valid_model(const std::string& m) {
  auto starts = [&](std::string_view p) {
    return m.rfind(p, 0) == 0;
  };
  return m == "openclaw" || starts("openclaw/") || starts("openclaw:")
    || starts("agent:");
}

response json_response(int status, std::string body) {
  return make_response(static_cast<http::status>(status), std::move(body));
}

} // namespace

gateway_behavior::gateway_behavior(std::string token)
  : token_(std::move(token)), started_(steady_clock::now()),
    ready_at_(started_) {
  // nop
}

void gateway_behavior::set_token(std::string token) {
  std::lock_guard<std::mutex> guard{mtx_};
  token_ = std::move(token);
}

void gateway_behavior::set_user_token(std::string user, std::string token) {
  std::lock_guard<std::mutex> guard{mtx_};
  user_tokens_[std::move(user)] = std::move(token);
}

void gateway_behavior::set_prefix(std::string prefix) {
  std::lock_guard<std::mutex> guard{mtx_};
  prefix_ = std::move(prefix);
}

void gateway_behavior::set_latency(milliseconds latency) {
  std::lock_guard<std::mutex> guard{mtx_};
  latency_ = latency;
}

void gateway_behavior::set_fail_status(int status) {
  std::lock_guard<std::mutex> guard{mtx_};
  fail_status_ = status;
}

void gateway_behavior::fail_next(int status, size_t count) {
  std::lock_guard<std::mutex> guard{mtx_};
  fail_queue_.insert(fail_queue_.end(), count, status);
}

void gateway_behavior::set_answer_size(size_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  answer_size_ = n;
}

void gateway_behavior::set_malformed(bool on) {
  std::lock_guard<std::mutex> guard{mtx_};
  malformed_ = on;
}

void gateway_behavior::set_hang(bool on) {
  std::lock_guard<std::mutex> guard{mtx_};
  hang_ = on;
}

void gateway_behavior::set_startup_delay(milliseconds delay) {
  std::lock_guard<std::mutex> guard{mtx_};
  ready_at_ = steady_clock::now() + delay;
}

void gateway_behavior::set_crash_after(uint64_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  crash_after_ = n;
}

void gateway_behavior::set_grow_mb_per_request(size_t mb) {
  std::lock_guard<std::mutex> guard{mtx_};
  grow_mb_ = mb;
}

std::string gateway_behavior::error_body(int status, bool locked) {
  const char* type = "api_error";
  const char* msg = "internal error";
  switch (status) {
    case 400:
      type = "invalid_request_error";
      msg = "Bad request";
      break;
    case 401:
      type = "authentication_error";
      msg = "upstream provider rejected the API key";
      break;
    case 403:
      type = "permission_error";
      msg = "Forbidden";
      break;
    case 404:
      type = "not_found_error";
      msg = "Not Found";
      break;
    case 408: msg = "upstream provider timeout"; break;
    case 429:
      type = "rate_limit_error";
      msg = "rate limit exceeded";
      break;
    case 500: msg = "internal error"; break;
    case 502: msg = "upstream provider error"; break;
    case 503: msg = "service unavailable"; break;
    case 504: msg = "gateway timeout"; break;
    default: break;
  }
  std::string out = R"({"error":{"message":)";
  if (locked)
    append_json_string(out,
                       "session file locked (timeout 10000ms): pid=123 "
                       "/data/agents/main/sessions/s.jsonl.lock");
  else
    append_json_string(out, msg);
  out += R"(,"type":)";
  append_json_string(out, type);
  out += "}}";
  return out;
}

std::string sse_head() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
         "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
}

std::string http_chunk(std::string_view data) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string size;
  for (auto n = data.size(); n > 0; n /= 16)
    size.insert(size.begin(), hex[n % 16]);
  if (size.empty())
    size = "0";
  std::string out;
  out.reserve(size.size() + data.size() + 4);
  out += size;
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

void gateway_behavior::set_suffix(std::string suffix) {
  std::lock_guard<std::mutex> guard{mtx_};
  suffix_ = std::move(suffix);
}

void gateway_behavior::set_stream_gap(std::chrono::milliseconds gap) {
  std::lock_guard<std::mutex> guard{mtx_};
  stream_gap_ = gap;
}

void gateway_behavior::set_stream_piece(size_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  stream_piece_ = n == 0 ? 1 : n;
}

void gateway_behavior::set_stream_mark(
  size_t chars, std::function<void(const std::string&)> f) {
  std::lock_guard<std::mutex> guard{mtx_};
  mark_chars_ = chars;
  on_mark_ = std::move(f);
}

void gateway_behavior::set_ignore_stream(bool on) {
  std::lock_guard<std::mutex> guard{mtx_};
  ignore_stream_ = on;
}

void gateway_behavior::stream_answer(const std::string& content,
                                     const std::string& answer,
                                     gateway_reply& out) const {
  out.streamed = true;
  out.gap = stream_gap_;
  if (auto ms = marker_value(content, "slow"); ms >= 0)
    out.gap = milliseconds{ms};
  size_t piece = stream_piece_;
  if (auto n = marker_value(content, "piece"); n > 0)
    piece = static_cast<size_t>(n);
  bool midfail = find_marker(content, "midfail");
  bool stall = find_marker(content, "stall");
  bool error = find_marker(content, "sseerror");
  auto id = "chatcmpl_" + std::to_string(next_id_);
  auto chunk = [&](std::string_view delta_json, std::string_view finish) {
    std::string e = R"(data: {"id":")" + id
      + R"(","object":"chat.completion.chunk","created":1,)"
        R"("model":"openclaw","choices":[{"index":0,"delta":)";
    e += delta_json;
    e += R"(,"finish_reason":)";
    e += finish;
    e += "}]}\n\n";
    return e;
  };
  out.events.push_back(": connected\n\n");
  out.events.push_back(chunk(R"({"role":"assistant"})", "null"));
  // Cut at code-point boundaries: a cut inside a UTF-8 sequence would make
  // the JSON string invalid.
  size_t half = answer.size() / 2;
  bool cut_short = midfail || stall || error;
  // The mark counts characters (code points), as the router's first
  // preview does: counted in bytes, it fell an event early in a text with
  // Cyrillic letters.
  size_t chars = 0;
  for (size_t pos = 0; pos < answer.size();) {
    if (cut_short && pos >= half && pos > 0)
      break;
    auto end = std::min(answer.size(), pos + piece);
    while (end < answer.size()
           && (static_cast<unsigned char>(answer[end]) & 0xC0) == 0x80)
      ++end;
    auto chars_before = chars;
    for (size_t k = pos; k < end; ++k)
      chars += (static_cast<unsigned char>(answer[k]) & 0xC0) != 0x80 ? 1 : 0;
    if (on_mark_ && chars_before < mark_chars_ && chars >= mark_chars_) {
      out.mark_event = out.events.size();
      out.on_mark = [f = on_mark_, content] {
        f(content);
      };
    }
    std::string delta = R"({"content":)";
    append_json_string(delta, std::string_view{answer}.substr(pos, end - pos));
    delta += '}';
    out.events.push_back(chunk(delta, "null"));
    pos = end;
  }
  if (midfail) {
    out.stream_end = gateway_reply::drop;
    return;
  }
  if (stall) {
    out.stream_end = gateway_reply::stall;
    return;
  }
  if (error) {
    out.events.push_back(R"(data: {"error":{"message":"upstream provider )"
                         R"(error","type":"api_error"}})"
                         "\n\n");
    out.events.push_back("data: [DONE]\n\n");
    return;
  }
  out.events.push_back(chunk("{}", R"("stop")"));
  auto prompt = content.size() / 4 + 1;
  auto completion = answer.size() / 4 + 1;
  out.events.push_back(
    R"(data: {"id":")" + id
    + R"(","object":"chat.completion.chunk","choices":[],"usage":)"
      R"({"prompt_tokens":)"
    + std::to_string(prompt) + R"(,"completion_tokens":)"
    + std::to_string(completion) + R"(,"total_tokens":)"
    + std::to_string(prompt + completion) + "}}\n\n");
  out.events.push_back("data: [DONE]\n\n");
}

std::string gateway_behavior::answer_text(const std::string& content,
                                          size_t long_n, bool empty) const {
  std::string answer;
  if (empty) {
    // nop: an empty assistant message
  } else if (long_n > 0) {
    // Words and line breaks, so that splitters find boundaries to cut at.
    static constexpr std::string_view words = "lorem ipsum dolor sit amet ";
    answer.reserve(long_n);
    for (size_t i = 0; answer.size() < long_n; ++i) {
      answer += (i % 80 == 79) ? '\n' : words[i % words.size()];
    }
  } else {
    answer = prefix_ + content + suffix_;
  }
  return answer;
}

std::string gateway_behavior::chat_answer(const std::string& content,
                                          size_t long_n, bool empty) const {
  auto answer = answer_text(content, long_n, empty);
  auto now = duration_cast<seconds>(system_clock::now().time_since_epoch());
  std::string out = R"({"id":"chatcmpl_)";
  out += std::to_string(next_id_);
  out += R"(","object":"chat.completion","created":)";
  out += std::to_string(now.count());
  out += R"(,"model":"openclaw","choices":[{"index":0,"message":)"
         R"({"role":"assistant","content":)";
  append_json_string(out, answer);
  auto prompt = content.size() / 4 + 1;
  auto completion = answer.size() / 4 + 1;
  out += R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":)";
  out += std::to_string(prompt);
  out += R"(,"completion_tokens":)";
  out += std::to_string(completion);
  out += R"(,"total_tokens":)";
  out += std::to_string(prompt + completion);
  out += "}}";
  return out;
}

void gateway_behavior::check_sequence(const std::string& user, user_state& st,
                                      const std::string& content) {
  // Looks for "u<id>-m<seq>" anywhere in the text.
  for (size_t p = content.find('u'); p != std::string::npos;
       p = content.find('u', p + 1)) {
    size_t i = p + 1;
    auto id_begin = i;
    while (i < content.size()
           && isdigit(static_cast<unsigned char>(content[i])))
      ++i;
    if (i == id_begin || content.compare(i, 2, "-m") != 0)
      continue;
    auto id = content.substr(id_begin, i - id_begin);
    i += 2;
    auto seq_begin = i;
    while (i < content.size()
           && isdigit(static_cast<unsigned char>(content[i])))
      ++i;
    if (i == seq_begin || i - seq_begin > 15)
      continue;
    auto seq = std::stoll(content.substr(seq_begin, i - seq_begin));
    if (id != user)
      ++stats_.misrouted;
    if (seq < st.last_seq)
      ++stats_.order_violations;
    else if (seq == st.last_seq)
      ++stats_.repeats;
    else
      st.last_seq = seq;
    return;
  }
}

gateway_reply gateway_behavior::handle(const request& req) {
  gateway_reply out;
  auto target = to_sv(req.target());
  auto path = target.substr(0, target.find('?'));
  std::unique_lock<std::mutex> guard{mtx_};
  ++stats_.requests;
  changed_.notify_all();
  if (hang_) {
    out.action = gateway_reply::hang;
    return out;
  }
  auto now = steady_clock::now();
  auto uptime = duration_cast<milliseconds>(now - started_).count();
  bool started = now >= ready_at_;
  bool is_get = req.method() == http::verb::get
    || req.method() == http::verb::head;
  auto health = [&](int status, std::string body) {
    out.res = json_response(status, std::move(body));
    if (req.method() == http::verb::head)
      out.res.body().clear();
    return out;
  };
  if (path == "/health" || path == "/healthz")
    return is_get ? health(200, R"({"ok":true,"status":"live"})")
                  : health(405, R"({"error":"Method Not Allowed"})");
  if (path == "/startupz") {
    if (!started)
      return health(503,
                    R"({"ok":false,"status":"starting","uptimeMs":)"
                      + std::to_string(uptime) + "}");
    return health(200,
                  R"({"ok":true,"status":"started","version":"2026.9.6",)"
                  R"("uptimeMs":)"
                    + std::to_string(uptime) + "}");
  }
  if (path == "/ready" || path == "/readyz") {
    if (!started)
      return health(503,
                    R"({"ready":false,"failing":["startup"],"uptimeMs":)"
                      + std::to_string(uptime) + "}");
    return health(200,
                  R"({"ready":true,"failing":[],"uptimeMs":)"
                    + std::to_string(uptime)
                    + R"(,"eventLoop":{"delayP99Ms":1.2,"utilization":0.01}})");
  }
  if (path == "/v1/models")
    return health(200,
                  R"({"object":"list","data":[{"id":"openclaw","object":)"
                  R"("model"},{"id":"openclaw/default","object":"model"},)"
                  R"({"id":"openclaw/main","object":"model"}]})");
  if (path != "/v1/chat/completions") {
    out.res = json_response(404, error_body(404));
    return out;
  }
  if (req.method() != http::verb::post) {
    out.res = make_response(http::status::method_not_allowed,
                            "Method Not Allowed", "text/plain");
    return out;
  }
  auto body = parse_json(req.body());
  // Authentication comes first, as in OpenClaw; the per-user token needs the
  // `user` field, so the body is parsed before.
  std::string user;
  if (body)
    if (auto u = body->get("user"))
      user = u->as_text();
  const std::string* expected = &token_;
  if (auto i = user_tokens_.find(user); i != user_tokens_.end())
    expected = &i->second;
  auto auth = to_sv(req[http::field::authorization]);
  if (!expected->empty()
      && (auth.size() != expected->size() + 7 || auth.substr(0, 7) != "Bearer "
          || auth.substr(7) != *expected)) {
    ++stats_.unauthorized;
    out.res = json_response(
      401, R"({"error":{"message":"Unauthorized","type":"unauthorized"}})");
    return out;
  }
  auto bad_request = [&](std::string_view msg) {
    std::string b = R"({"error":{"message":)";
    append_json_string(b, msg);
    b += R"(,"type":"invalid_request_error"}})";
    out.res = json_response(400, std::move(b));
    return out;
  };
  if (!body || body->kind != json_value::object_kind)
    return bad_request("Invalid JSON body.");
  auto model = body->get("model");
  if (!model || !valid_model(model->text))
    return bad_request("Invalid `model`. Use `openclaw` or "
                       "`openclaw/<agentId>`.");
  auto content = last_user_content(*body);
  if (!content)
    return bad_request("Missing user message in `messages`.");
  // A model without image input: OpenAI-style 400 for an image part.
  if (find_marker(*content, "noimage")
      && content->find("[image:") != std::string::npos)
    return bad_request("Invalid content type. image_url is only supported "
                       "by certain models.");
  // A valid chat request: record it and check the per-user invariants.
  ++stats_.chat_requests;
  auto& st = users_[user];
  if (st.in_flight > 0)
    ++stats_.overlap_violations;
  ++st.in_flight;
  ++stats_.in_flight;
  stats_.max_in_flight = std::max(stats_.max_in_flight, stats_.in_flight);
  st.received.emplace_back(*content);
  check_sequence(user, st, *content);
  ++next_id_;
  out.tracked = true;
  out.user = user;
  if (grow_mb_ > 0) {
    ballast_.emplace_back(grow_mb_ * 1024 * 1024);
    std::memset(ballast_.back().data(), 0x5a, ballast_.back().size());
  }
  const auto& text = *content;
  if ((crash_after_ > 0 && stats_.chat_requests > crash_after_)
      || find_marker(text, "crash")) {
    out.action = gateway_reply::crash;
    return out;
  }
  if (find_marker(text, "hang")) {
    out.action = gateway_reply::hang;
    return out;
  }
  out.delay = latency_;
  if (auto ms = marker_value(text, "sleep"); ms >= 0)
    out.delay = milliseconds{ms};
  int status = 0;
  if (auto s = marker_value(text, "fail"); s >= 100 && s <= 599)
    status = static_cast<int>(s);
  else if (auto k = marker_value(text, "flaky");
           k > 0 && flaky_seen_[user + '\0' + text]++ < k)
    status = 502;
  else if (!fail_queue_.empty()) {
    status = fail_queue_.front();
    fail_queue_.pop_front();
  } else if (fail_status_ != 0)
    status = fail_status_;
  bool locked = find_marker(text, "locked");
  if (locked)
    status = 500;
  if (status != 0 && status != 200) {
    out.res = json_response(status, error_body(status, locked));
    if (status == 429)
      out.res.set(http::field::retry_after, "1");
    return out;
  }
  if (malformed_ || find_marker(text, "malformed")) {
    out.res = json_response(200, R"({"id":"chatcmpl_x","choices":[{"mess)");
    return out;
  }
  auto long_n = marker_value(text, "long");
  auto size = long_n > 0 ? static_cast<size_t>(long_n) : answer_size_;
  auto stream = body->get("stream");
  if (stream && stream->kind == json_value::bool_kind && stream->boolean
      && !ignore_stream_) {
    ++stats_.streamed;
    stream_answer(text, answer_text(text, size, find_marker(text, "empty")),
                  out);
    return out;
  }
  out.res = json_response(200,
                          chat_answer(text, size, find_marker(text, "empty")));
  return out;
}

void gateway_behavior::finish(const std::string& user, int status) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = users_.find(user);
  if (i != users_.end() && i->second.in_flight > 0) {
    --i->second.in_flight;
    --stats_.in_flight;
  }
  if (status == 200)
    ++stats_.answered_ok;
  changed_.notify_all();
}

gateway_stats gateway_behavior::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stats_;
}

std::vector<std::string>
gateway_behavior::received(const std::string& user) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = users_.find(user);
  return i == users_.end() ? std::vector<std::string>{} : i->second.received;
}

std::vector<std::string> gateway_behavior::users() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (auto& kvp : users_)
    out.emplace_back(kvp.first);
  return out;
}

bool gateway_behavior::wait_for_chat_requests(uint64_t n,
                                              milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{mtx_};
  return changed_.wait_for(guard, timeout, [&] {
    return stats_.chat_requests >= n;
  });
}

void gateway_behavior::reset_stats() {
  std::lock_guard<std::mutex> guard{mtx_};
  auto in_flight = stats_.in_flight;
  stats_ = gateway_stats{};
  stats_.in_flight = in_flight;
  for (auto& kvp : users_) {
    kvp.second.received.clear();
    kvp.second.last_seq = -1;
  }
  flaky_seen_.clear();
}

} // namespace zaki::fakes
