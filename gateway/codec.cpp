#include "gateway/codec.hpp"

#include <simdjson.h>

#include "json/parse.hpp"
#include "json/writer.hpp"

namespace zaki {

namespace od = simdjson::ondemand;

namespace {

/// Reads `{"error":{"message":...,"type":...}}`; tolerates other shapes.
void decode_error_body(std::string& body, gateway_answer& out) {
  pad_for_simdjson(body);
  od::document doc;
  if (thread_ondemand_parser().iterate(body).get(doc))
    return;
  od::object err;
  if (doc["error"].get_object().get(err))
    return;
  for (auto field : err) {
    std::string_view key;
    std::string_view text;
    if (field.unescaped_key().get(key))
      return;
    if (field.value().get_string().get(text))
      continue;
    if (key == "message")
      out.error_message.assign(text.data(), text.size());
    else if (key == "type")
      out.error_type.assign(text.data(), text.size());
  }
}

/// Reads the answer text of choices[0] and, when present, the token usage.
/// Walks the top-level members in document order, so that `usage` may come
/// before or after `choices`.
bool decode_content(std::string& body, gateway_answer& out) {
  pad_for_simdjson(body);
  od::document doc;
  if (thread_ondemand_parser().iterate(body).get(doc))
    return false;
  od::object top;
  if (doc.get_object().get(top))
    return false;
  bool found = false;
  for (auto field : top) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return found; // damage after the answer does not undo it
    if (key == "choices") {
      od::array choices;
      if (field.value().get_array().get(choices))
        return false;
      for (auto choice : choices) {
        od::object obj;
        if (choice.get_object().get(obj))
          return false;
        std::string_view text;
        if (obj["message"]["content"].get_string().get(text))
          return false;
        out.content.assign(text.data(), text.size());
        found = true;
        break;
      }
    } else if (key == "usage") {
      od::object usage;
      if (field.value().get_object().get(usage))
        continue; // null or odd usage: the answer still counts
      for (auto u : usage) {
        std::string_view name;
        int64_t n = 0;
        if (u.unescaped_key().get(name) || u.value().get_int64().get(n)
            || n < 0)
          continue;
        if (name == "prompt_tokens")
          out.prompt_tokens = n;
        else if (name == "completion_tokens")
          out.completion_tokens = n;
      }
    }
  }
  return found;
}

} // namespace

std::string encode_chat_request(std::string_view model, int64_t user_id,
                                std::string_view text) {
  json_writer w;
  w.begin_object().field("model", model).field("user", std::to_string(user_id));
  w.key("messages").begin_array().begin_object();
  w.field("role", "user").field("content", text);
  w.end_object().end_array().end_object();
  return w.take();
}

std::string encode_stream_request(std::string_view model, int64_t user_id,
                                  std::string_view text) {
  json_writer w;
  w.begin_object().field("model", model).field("user", std::to_string(user_id));
  w.field("stream", true);
  w.key("stream_options").begin_object().field("include_usage", true);
  w.end_object();
  w.key("messages").begin_array().begin_object();
  w.field("role", "user").field("content", text);
  w.end_object().end_array().end_object();
  return w.take();
}

std::string encode_image_request(std::string_view model, int64_t user_id,
                                 std::string_view text,
                                 std::string_view image_url, bool stream) {
  json_writer w;
  w.begin_object().field("model", model).field("user", std::to_string(user_id));
  if (stream) {
    w.field("stream", true);
    w.key("stream_options").begin_object().field("include_usage", true);
    w.end_object();
  }
  w.key("messages").begin_array().begin_object();
  w.field("role", "user").key("content").begin_array();
  if (!text.empty())
    w.begin_object().field("type", "text").field("text", text).end_object();
  w.begin_object().field("type", "image_url").key("image_url").begin_object();
  w.field("url", image_url).end_object().end_object();
  w.end_array().end_object().end_array().end_object();
  return w.take();
}

gateway_answer classify_gateway_result(http_result& res) {
  gateway_answer out;
  if (res.status == 0) {
    out.outcome = gateway_outcome::retryable;
    out.error_message = res.error;
    return out;
  }
  if (res.ok()) {
    out.outcome = decode_content(res.body, out) ? gateway_outcome::answered
                                                : gateway_outcome::bad_response;
    // A body that broke after its text was read is no answer: nothing of
    // it may reach the user (found by fuzz/gateway.cpp).
    if (out.outcome != gateway_outcome::answered)
      out.content.clear();
    return out;
  }
  decode_error_body(res.body, out);
  if (res.status == 401) {
    out.outcome = out.error_type == "authentication_error"
      ? gateway_outcome::provider_auth
      : gateway_outcome::unauthorized;
  } else if (res.status == 500
             && out.error_message.find("session file locked")
               != std::string::npos) {
    out.outcome = gateway_outcome::session_locked;
  } else if (res.status >= 500 || res.status == 408 || res.status == 429) {
    out.outcome = gateway_outcome::retryable;
  } else {
    out.outcome = gateway_outcome::rejected;
  }
  return out;
}

} // namespace zaki
