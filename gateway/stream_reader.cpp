#include "gateway/stream_reader.hpp"

namespace zaki {

gateway_stream::gateway_stream(size_t max_event, size_t max_json)
  : reader_(max_event), max_json_(max_json) {
  // nop
}

bool gateway_stream::feed(std::string_view bytes, std::string& delta) {
  if (kind_ == body_kind::unknown) {
    auto first = bytes.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
      return true;
    kind_ = bytes[first] == '{' ? body_kind::json : body_kind::sse;
  }
  if (kind_ == body_kind::json) {
    if (json_.size() + bytes.size() > max_json_)
      return false;
    json_.append(bytes);
    return true;
  }
  if (done_ || error_)
    return !error_;
  auto before = text_.size();
  auto ok = reader_.feed(bytes, [&](std::string_view data) {
    if (done_ || error_)
      return;
    auto chunk = decode_stream_chunk(data);
    switch (chunk.kind) {
      case stream_chunk::done: done_ = true; return;
      case stream_chunk::error:
        error_ = true;
        error_type_ = std::move(chunk.error_type);
        error_message_ = std::move(chunk.error_message);
        return;
      case stream_chunk::malformed:
        // Tolerated as OpenAI clients do; counted for the log.
        malformed_ = true;
        return;
      case stream_chunk::chunk: break;
    }
    text_ += chunk.content;
    if (!chunk.finish_reason.empty())
      finished_ = true;
    if (chunk.prompt_tokens >= 0)
      prompt_tokens_ = chunk.prompt_tokens;
    if (chunk.completion_tokens >= 0)
      completion_tokens_ = chunk.completion_tokens;
  });
  if (text_.size() > before) {
    std::string_view added{text_.data() + before, text_.size() - before};
    auto chars_before = chars_;
    for (unsigned char c : added)
      chars_ += (c & 0xC0) != 0x80 ? 1 : 0;
    bool urgent = urgent_at_ > 0 && chars_before < urgent_at_
      && chars_ >= urgent_at_;
    received_.store(text_.size(), std::memory_order_relaxed);
    std::lock_guard<std::mutex> guard{mtx_};
    pending_.append(added);
    if (waiting_ || urgent) {
      waiting_ = false;
      delta.append(pending_);
      pending_.clear();
    }
  }
  if (done_ || finished_ || error_)
    ended_.store(true, std::memory_order_release);
  // An error event ends the exchange at once: what follows is [DONE].
  return ok && !error_;
}

void gateway_stream::give_back(const std::string& text) {
  std::lock_guard<std::mutex> guard{mtx_};
  pending_.insert(0, text);
}

bool gateway_stream::take(std::string& out) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (pending_.empty()) {
    waiting_ = true;
    return false;
  }
  out.append(pending_);
  pending_.clear();
  return true;
}

gateway_answer gateway_stream::finish(http_result& res) {
  gateway_answer out;
  if (!res.ok() && res.status != 0)
    return classify_gateway_result(res);
  if (res.ok() && kind_ != body_kind::sse) {
    // One JSON body after all (an older gateway).
    if (kind_ == body_kind::json)
      res.body = std::move(json_);
    return classify_gateway_result(res);
  }
  if (error_) {
    out.outcome = gateway_outcome::retryable;
    out.error_type = error_type_.empty() ? "api_error" : error_type_;
    out.error_message = error_message_;
    return out;
  }
  if (reader_.overflowed()) {
    out.outcome = gateway_outcome::bad_response;
    out.error_message = "an event exceeded the size limit";
    return out;
  }
  if (res.status == 0) {
    out.outcome = gateway_outcome::retryable;
    out.error_message = res.error;
    return out;
  }
  if (!done_ && !finished_) {
    out.outcome = gateway_outcome::bad_response;
    out.error_message = "the stream ended before [DONE]";
    return out;
  }
  out.outcome = gateway_outcome::answered;
  out.content = text_;
  out.prompt_tokens = prompt_tokens_;
  out.completion_tokens = completion_tokens_;
  return out;
}

} // namespace zaki
