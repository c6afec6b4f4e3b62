#include "telegram/codec.hpp"

#include <simdjson.h>

#include "json/writer.hpp"
#include "storage/users_file.hpp"

namespace zaki {

namespace od = simdjson::ondemand;

namespace {

/// One parser per thread (CAF workers), capped at 16 MiB: a larger body
/// fails with CAPACITY instead of growing memory without bound.
od::parser& thread_parser() {
  thread_local od::parser parser{16 << 20};
  return parser;
}

void pad(std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
}

/// Reads `{"id": ...}` objects such as `from` and `chat`.
bool read_id(od::value v, int64_t& id) {
  od::object obj;
  if (v.get_object().get(obj))
    return false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    if (key == "id")
      return !field.value().get_int64().get(id);
  }
  return false;
}

enum class decode_status { routed, skipped, malformed };

decode_status decode_message(od::value v, inbound_message& out) {
  od::object obj;
  if (v.get_object().get(obj))
    return decode_status::malformed;
  bool has_text = false;
  bool has_from = false;
  bool has_chat = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return decode_status::malformed;
    if (key == "message_id") {
      if (field.value().get_int64().get(out.message_id))
        return decode_status::malformed;
    } else if (key == "from") {
      if (!read_id(field.value(), out.user_id))
        return decode_status::malformed;
      has_from = true;
    } else if (key == "chat") {
      if (!read_id(field.value(), out.chat_id))
        return decode_status::malformed;
      has_chat = true;
    } else if (key == "text") {
      std::string_view text;
      if (field.value().get_string().get(text))
        return decode_status::malformed;
      out.text.assign(text.data(), text.size());
      has_text = true;
    }
  }
  if (!has_from || !has_chat)
    return has_text ? decode_status::malformed : decode_status::skipped;
  return has_text ? decode_status::routed : decode_status::skipped;
}

decode_status decode_callback(od::value v, inbound_message& out) {
  od::object obj;
  if (v.get_object().get(obj))
    return decode_status::malformed;
  bool has_id = false;
  bool has_from = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return decode_status::malformed;
    if (key == "id") {
      std::string_view id;
      if (field.value().get_string().get(id))
        return decode_status::malformed;
      out.callback_id.assign(id.data(), id.size());
      has_id = !id.empty();
    } else if (key == "from") {
      if (!read_id(field.value(), out.user_id))
        return decode_status::malformed;
      has_from = true;
    } else if (key == "data") {
      std::string_view data;
      if (field.value().get_string().get(data))
        return decode_status::malformed;
      out.text.assign(data.data(), data.size());
    } else if (key == "message") {
      inbound_message msg;
      if (decode_message(field.value(), msg) == decode_status::malformed
          && msg.chat_id == 0)
        return decode_status::malformed;
      out.chat_id = msg.chat_id;
      out.message_id = msg.message_id;
    }
  }
  if (!has_id || !has_from)
    return decode_status::malformed;
  // A press on an inline message has no chat; the user's private chat
  // carries the answer.
  if (out.chat_id == 0)
    out.chat_id = out.user_id;
  return decode_status::routed;
}

void decode_update(od::object update, decoded_updates& result) {
  inbound_message msg;
  auto status = decode_status::skipped;
  bool has_id = false;
  for (auto field : update) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      status = decode_status::malformed;
      break;
    }
    if (key == "update_id") {
      has_id = !field.value().get_int64().get(msg.update_id);
    } else if (key == "message") {
      status = decode_message(field.value(), msg);
    } else if (key == "callback_query") {
      status = decode_callback(field.value(), msg);
    }
  }
  if (!has_id || !usable_update_id(msg.update_id)) {
    // Routing it would hand over an update that no offset confirms, so it
    // would come back with every poll.
    ++result.malformed;
    ++result.unusable;
    return;
  }
  if (msg.update_id > result.max_update_id)
    result.max_update_id = msg.update_id;
  switch (status) {
    case decode_status::routed:
      result.messages.push_back(std::move(msg));
      break;
    case decode_status::skipped:
      ++result.skipped;
      break;
    case decode_status::malformed:
      ++result.malformed;
      break;
  }
}

void decode_error_fields(od::object obj, bot_api_error& out) {
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return;
    if (key == "error_code") {
      int64_t code = 0;
      if (!field.value().get_int64().get(code))
        out.error_code = static_cast<int>(code);
    } else if (key == "description") {
      std::string_view text;
      if (!field.value().get_string().get(text))
        out.description.assign(text.data(), text.size());
    } else if (key == "parameters") {
      od::object params;
      if (field.value().get_object().get(params))
        continue;
      for (auto p : params) {
        std::string_view pkey;
        if (p.unescaped_key().get(pkey))
          break;
        int64_t n = 0;
        if (pkey == "retry_after" && !p.value().get_int64().get(n))
          out.retry_after = static_cast<int>(n);
        else if (pkey == "migrate_to_chat_id" && !p.value().get_int64().get(n))
          out.migrate_to_chat_id = n;
      }
    }
  }
}

} // namespace

namespace {

/// Decodes with simdjson's on-demand parser alone, which does not check that
/// brackets balance (see `decode_updates`).
void decode_updates_on_demand(std::string& body, decoded_updates& result) {
  pad(body);
  od::document doc;
  if (auto err = thread_parser().iterate(body).get(doc)) {
    result.error = simdjson::error_message(err);
    return;
  }
  od::object root;
  if (auto err = doc.get_object().get(root)) {
    result.error = simdjson::error_message(err);
    return;
  }
  bool ok_field = false;
  bool has_result = false;
  for (auto field : root) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) {
      result.error = simdjson::error_message(err);
      return;
    }
    if (key == "ok") {
      if (field.value().get_bool().get(ok_field)) {
        result.error = "'ok' is not a boolean";
        return;
      }
    } else if (key == "result") {
      od::array updates;
      if (field.value().get_array().get(updates)) {
        result.error = "'result' is not an array";
        return;
      }
      has_result = true;
      for (auto element : updates) {
        if (auto err = element.error()) {
          // Structural damage: the rest of the array cannot be trusted.
          result.error = simdjson::error_message(err);
          return;
        }
        od::object update;
        if (element.get_object().get(update)) {
          ++result.malformed;
          ++result.unusable;
          continue;
        }
        decode_update(update, result);
      }
    } else if (key == "error_code" || key == "description") {
      // Re-read below through decode_api_error for the error shape.
    }
  }
  if (!ok_field) {
    decode_api_error(body, result.api_error);
    result.error = result.api_error.description.empty()
                     ? "answer without ok:true"
                     : result.api_error.description;
    result.messages.clear();
    return;
  }
  if (!has_result) {
    result.error = "answer without result";
    return;
  }
  result.ok = true;
}

} // namespace

decoded_updates decode_updates(std::string& body) {
  // On-demand parsing does not check that brackets balance: a truncated
  // answer would confirm its last update as "malformed" or "skipped" and
  // lose it. The balance test rules that out; the exact checker, which
  // says where a document is broken, is too slow for every answer and runs
  // only when something did not decode.
  auto size = body.size();
  // (A view is taken each time: padding may move the body.)
  auto text = [&body, size] { return std::string_view{body.data(), size}; };
  auto broken = [&text] {
    decoded_updates result;
    auto where = locate_json_error(text());
    result.error = "not valid JSON: "
                   + (where.empty() ? std::string{"unbalanced"} : where);
    return result;
  };
  if (!json_is_balanced(text()))
    return broken();
  decoded_updates result;
  decode_updates_on_demand(body, result);
  if (result.ok && result.malformed == 0)
    return result;
  if (!locate_json_error(text()).empty())
    return broken();
  return result;
}

bool decode_api_error(std::string& body, bot_api_error& out) {
  pad(body);
  od::document doc;
  if (thread_parser().iterate(body).get(doc))
    return false;
  od::object root;
  if (doc.get_object().get(root))
    return false;
  decode_error_fields(root, out);
  return out.error_code != 0 || !out.description.empty();
}

int64_t decode_sent_message_id(std::string& body) {
  pad(body);
  od::document doc;
  if (thread_parser().iterate(body).get(doc))
    return 0;
  int64_t id = 0;
  if (doc["result"]["message_id"].get_int64().get(id))
    return 0;
  return id;
}

std::string encode_get_updates(int64_t offset, uint64_t limit,
                               int64_t timeout_seconds) {
  json_writer w;
  w.begin_object();
  if (offset != 0)
    w.field("offset", offset);
  w.field("limit", limit).field("timeout", timeout_seconds);
  w.key("allowed_updates").begin_array().value("message").value(
    "callback_query");
  w.end_array().end_object();
  return w.take();
}

std::string encode_send_message(int64_t chat_id, std::string_view text,
                                std::string_view parse_mode,
                                std::string_view reply_markup) {
  json_writer w;
  w.begin_object().field("chat_id", chat_id).field("text", text);
  if (!parse_mode.empty())
    w.field("parse_mode", parse_mode);
  if (!reply_markup.empty())
    w.key("reply_markup").raw(reply_markup);
  w.key("link_preview_options").begin_object().field("is_disabled", true);
  w.end_object().end_object();
  return w.take();
}

std::string encode_chat_action(int64_t chat_id, std::string_view action) {
  json_writer w;
  w.begin_object().field("chat_id", chat_id).field("action", action);
  return w.end_object().take();
}

std::string encode_answer_callback(std::string_view callback_id,
                                   std::string_view text) {
  json_writer w;
  w.begin_object().field("callback_query_id", callback_id);
  if (!text.empty())
    w.field("text", text);
  return w.end_object().take();
}

std::string encode_delete_message(int64_t chat_id, int64_t message_id) {
  json_writer w;
  w.begin_object().field("chat_id", chat_id).field("message_id", message_id);
  return w.end_object().take();
}

} // namespace zaki
