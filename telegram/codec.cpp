#include "telegram/codec.hpp"

#include <algorithm>

#include <simdjson.h>

#include "json/parse.hpp"
#include "json/writer.hpp"
#include "storage/users_file.hpp"

namespace zaki {

namespace od = simdjson::ondemand;

namespace {

void pad(std::string& body) {
  pad_for_simdjson(body);
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

/// Reads `chat`: its id and, for a group or channel, its type.
bool read_chat(od::value v, int64_t& id, chat_kind& kind) {
  od::object obj;
  if (v.get_object().get(obj))
    return false;
  bool has_id = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    if (key == "id") {
      if (field.value().get_int64().get(id))
        return false;
      has_id = true;
      // Only groups and channels have negative ids: a private chat (the
      // hot path) needs no more of the object.
      if (id > 0)
        return true;
    } else if (key == "type") {
      std::string_view type;
      if (field.value().get_string().get(type))
        return false;
      if (type == "group")
        kind = chat_kind::group;
      else if (type == "supergroup")
        kind = chat_kind::supergroup;
      else if (type == "channel")
        kind = chat_kind::channel;
    }
  }
  return has_id;
}

/// Reads the fields of a Document, Audio, Video or Voice object.
bool read_file(od::value v, inbound_message& out) {
  od::object obj;
  if (v.get_object().get(obj))
    return false;
  out.file_id.clear();
  out.file_size = 0;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    std::string_view text;
    if (key == "file_id") {
      if (field.value().get_string().get(text))
        return false;
      out.file_id.assign(text.data(), text.size());
    } else if (key == "file_name") {
      if (!field.value().get_string().get(text))
        out.file_name.assign(text.data(), text.size());
    } else if (key == "mime_type") {
      if (!field.value().get_string().get(text))
        out.mime_type.assign(text.data(), text.size());
    } else if (key == "file_size") {
      if (field.value().get_int64().get(out.file_size))
        out.file_size = 0;
    }
  }
  return !out.file_id.empty();
}

/// Picks the largest photo size within `max_bytes`; when none fits, keeps
/// the smallest size's byte count (and no file_id) so that the user can be
/// told the limit.
bool read_photo(od::value v, inbound_message& out, int64_t max_bytes) {
  od::array sizes;
  if (v.get_array().get(sizes))
    return false;
  int64_t best_area = -1;
  int64_t smallest = 0;
  for (auto element : sizes) {
    od::object obj;
    if (element.get_object().get(obj))
      return false;
    std::string_view id;
    int64_t bytes = 0;
    int64_t width = 0;
    int64_t height = 0;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key))
        return false;
      if (key == "file_id") {
        if (field.value().get_string().get(id))
          return false;
      } else if (key == "file_size") {
        if (field.value().get_int64().get(bytes))
          bytes = 0;
      } else if (key == "width") {
        if (field.value().get_int64().get(width))
          width = 0;
      } else if (key == "height") {
        if (field.value().get_int64().get(height))
          height = 0;
      }
    }
    if (id.empty())
      continue;
    if (smallest == 0 || bytes < smallest)
      smallest = bytes;
    if (bytes > max_bytes)
      continue;
    // Sizes come smallest first; the area orders them when file_size is
    // missing.
    auto area = width * height + bytes;
    if (area > best_area) {
      best_area = area;
      out.file_id.assign(id.data(), id.size());
      out.file_size = bytes;
    }
  }
  if (best_area < 0)
    out.file_size = smallest;
  out.mime_type = "image/jpeg";
  return true;
}

/// Reads `entities`: whether one mentions someone (the bot is checked by
/// name later, against the text).
bool read_entities(od::value v, bool& mentions) {
  od::array items;
  if (v.get_array().get(items))
    return false;
  for (auto element : items) {
    od::object obj;
    if (element.get_object().get(obj))
      return false;
    std::string_view type;
    if (obj["type"].get_string().get(type))
      continue;
    if (type == "mention" || type == "text_mention")
      mentions = true;
  }
  return true;
}

/// Reads the sender of `reply_to_message`.
bool read_reply_sender(od::value v, int64_t& user_id) {
  od::object obj;
  if (v.get_object().get(obj))
    return false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    if (key == "from")
      return read_id(field.value(), user_id);
  }
  return true;
}

/// Returns the kind of a member that carries no file we fetch, or text.
inbound_kind plain_kind(std::string_view key) {
  if (key == "sticker")
    return inbound_kind::sticker;
  if (key == "location" || key == "venue")
    return inbound_kind::location;
  if (key == "contact")
    return inbound_kind::contact;
  if (key == "poll")
    return inbound_kind::poll;
  if (key == "dice")
    return inbound_kind::dice;
  return inbound_kind::text;
}

/// Returns the kind of a member that carries a file, or text.
inbound_kind file_kind(std::string_view key) {
  if (key == "document" || key == "animation")
    return inbound_kind::document;
  if (key == "audio")
    return inbound_kind::audio;
  if (key == "video" || key == "video_note")
    return inbound_kind::video;
  if (key == "voice")
    return inbound_kind::voice;
  return inbound_kind::text;
}

decode_status decode_message(od::value v, inbound_message& out,
                             int64_t max_image_bytes) {
  od::object obj;
  if (v.get_object().get(obj))
    return decode_status::malformed;
  bool has_text = false;
  bool has_from = false;
  bool has_chat = false;
  bool has_content = false;
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
      if (!read_chat(field.value(), out.chat_id, out.chat))
        return decode_status::malformed;
      has_chat = true;
    } else if (key == "text" || key == "caption") {
      std::string_view text;
      if (field.value().get_string().get(text))
        return decode_status::malformed;
      out.text.assign(text.data(), text.size());
      has_text = true;
    } else if (key == "date") {
      // In every message: skipped before the media keys are tried.
    } else if (key == "entities" || key == "caption_entities") {
      if (!read_entities(field.value(), out.mentions))
        return decode_status::malformed;
    } else if (key == "reply_to_message") {
      if (!read_reply_sender(field.value(), out.reply_to_user_id))
        return decode_status::malformed;
    } else if (key == "photo") {
      if (!read_photo(field.value(), out, max_image_bytes))
        return decode_status::malformed;
      out.kind = inbound_kind::photo;
      has_content = true;
    } else if (auto fk = file_kind(key); fk != inbound_kind::text) {
      if (!read_file(field.value(), out))
        return decode_status::malformed;
      out.kind = fk;
      has_content = true;
    } else if (auto pk = plain_kind(key); pk != inbound_kind::text) {
      // A poll's question or a venue's title is not the user's text.
      out.kind = pk;
      has_content = true;
    }
  }
  if (out.kind > inbound_kind::voice)
    out.text.clear();
  bool routable = has_text || has_content;
  if (!has_from || !has_chat)
    return routable ? decode_status::malformed : decode_status::skipped;
  if (out.chat == chat_kind::channel)
    return decode_status::skipped;
  return routable ? decode_status::routed : decode_status::skipped;
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
      if (decode_message(field.value(), msg, 0) == decode_status::malformed
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

void decode_update(od::object update, decoded_updates& result,
                   const decode_options& opts) {
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
      status = decode_message(field.value(), msg, opts.max_image_bytes);
    } else if (key == "edited_message") {
      // An edit is never routed on its own, so one of an odd shape is
      // dropped rather than counted as damage.
      status = decode_message(field.value(), msg, opts.max_image_bytes);
      if (status == decode_status::malformed)
        status = decode_status::skipped;
      msg.edited = true;
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
    case decode_status::skipped: ++result.skipped; break;
    case decode_status::malformed: ++result.malformed; break;
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
void decode_updates_on_demand(std::string& body, decoded_updates& result,
                              const decode_options& opts) {
  pad(body);
  od::document doc;
  if (auto err = thread_ondemand_parser().iterate(body).get(doc)) {
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
      // A message is about 300 bytes of JSON; reserving spares the moves
      // of growing (inbound_message is large since it carries media).
      result.messages.reserve(std::min<size_t>(body.size() / 256 + 1, 100));
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
        decode_update(update, result, opts);
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
  return decode_updates(body, decode_options{});
}

decoded_updates decode_updates(std::string& body, const decode_options& opts) {
  // On-demand parsing does not check that brackets balance: a truncated
  // answer would confirm its last update as "malformed" or "skipped" and
  // lose it. The balance test rules that out; the exact checker, which
  // says where a document is broken, is too slow for every answer and runs
  // only when something did not decode.
  auto size = body.size();
  // (A view is taken each time: padding may move the body.)
  auto text = [&body, size] {
    return std::string_view{body.data(), size};
  };
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
  decode_updates_on_demand(body, result, opts);
  if (result.ok && result.malformed == 0)
    return result;
  if (!locate_json_error(text()).empty())
    return broken();
  return result;
}

bool decode_api_error(std::string& body, bot_api_error& out) {
  pad(body);
  od::document doc;
  if (thread_ondemand_parser().iterate(body).get(doc))
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
  if (thread_ondemand_parser().iterate(body).get(doc))
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
  w.key("allowed_updates")
    .begin_array()
    .value("message")
    .value("callback_query")
    .value("edited_message");
  w.end_array().end_object();
  return w.take();
}

std::string encode_send_message(int64_t chat_id, std::string_view text,
                                std::string_view parse_mode,
                                std::string_view reply_markup) {
  return encode_send_message(chat_id, text, parse_mode, reply_markup, 0);
}

std::string encode_send_message(int64_t chat_id, std::string_view text,
                                std::string_view parse_mode,
                                std::string_view reply_markup,
                                int64_t reply_to) {
  json_writer w;
  w.begin_object().field("chat_id", chat_id).field("text", text);
  if (reply_to != 0)
    w.field("reply_to_message_id", reply_to)
      .field("allow_sending_without_reply", true);
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
