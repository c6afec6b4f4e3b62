#include "telegram/stream_edit.hpp"

#include <algorithm>

#include "json/writer.hpp"
#include "telegram/html.hpp"

namespace zaki {

stream_edit::stream_edit(options opts, clock::time_point started)
  : opts_(opts), started_(started) {
  // nop
}

std::string stream_edit::preview_of(std::string_view text) const {
  // Trailing blanks change nothing visible (Telegram trims them).
  while (!text.empty()
         && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  if (utf16_length(text) <= opts_.max_preview)
    return std::string{text};
  // Cut at a code point: count units up to the limit.
  size_t units = 0;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80)
      continue;
    size_t n = c >= 0xF0 ? 2 : 1;
    if (units + n > opts_.max_preview)
      break;
    units += n;
  }
  return std::string{text.substr(0, i)};
}

const std::string& stream_edit::preview() const {
  if (!preview_valid_) {
    preview_ = preview_of(text_);
    preview_valid_ = true;
  }
  return preview_;
}

bool stream_edit::shows_last_sent() const {
  if (same_ < 0)
    same_ = preview() == last_sent_ ? 1 : 0;
  return same_ == 1;
}

size_t stream_edit::count_chars(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text)
    n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

void stream_edit::count_skipped() {
  if (sent_any_ && !in_flight_ && shows_last_sent())
    ++skipped;
}

void stream_edit::update(std::string_view text) {
  text_.assign(text.data(), text.size());
  chars_ = count_chars(text_);
  preview_valid_ = false;
  same_ = -1;
  count_skipped();
}

void stream_edit::append(std::string_view delta) {
  text_.append(delta.data(), delta.size());
  chars_ += count_chars(delta);
  preview_valid_ = false;
  same_ = -1;
  count_skipped();
}

void stream_edit::finish() {
  finished_ = true;
}

stream_edit::call stream_edit::next(clock::time_point now) {
  call out;
  if (in_flight_ || final_out_ || now < due())
    return out;
  if (finished_) {
    final_out_ = true;
    out.kind = call_kind::final;
    return out;
  }
  if (abandoned_ || text_.empty())
    return out;
  auto& preview = this->preview();
  if (preview.empty() || shows_last_sent())
    return out;
  out.kind = sent_any_ ? call_kind::edit_preview : call_kind::send_preview;
  out.text = preview;
  last_sent_ = preview;
  same_ = 1;
  last_call_at_ = now;
  in_flight_ = true;
  ++calls;
  return out;
}

stream_edit::clock::time_point stream_edit::due() const {
  auto never = clock::time_point::max();
  if (in_flight_ || final_out_)
    return never;
  // The interval and a pause hold every call that follows a call, the
  // final one included (it edits the same message, or sends to the chat).
  auto earliest = std::max(paused_until_,
                           sent_any_ ? last_call_at_ + opts_.edit_interval
                                     : clock::time_point{});
  if (finished_)
    return abandoned_ ? paused_until_ : earliest;
  if (abandoned_ || text_.empty())
    return never;
  if (!sent_any_) {
    // Characters (code points) so far, counted as they arrive: the
    // telegram actor asks every stream's due() on each of its ticks.
    auto at = chars_ >= opts_.min_chars ? clock::time_point{}
                                        : started_ + opts_.first_preview;
    return std::max(at, earliest);
  }
  if (shows_last_sent())
    return never;
  return earliest;
}

void stream_edit::on_success(clock::time_point now, int64_t message_id) {
  in_flight_ = false;
  failures_ = 0;
  // The interval counts from the answer, not from the request: the next
  // call then reaches Telegram at least an interval after this one did,
  // whatever the network's jitter.
  last_call_at_ = now;
  if (!sent_any_) {
    sent_any_ = true;
    first_at_ = now;
    message_id_ = message_id;
    if (message_id == 0)
      abandoned_ = true; // nothing to edit later
  }
}

void stream_edit::on_rate_limited(clock::time_point now,
                                  clock::duration retry_after) {
  in_flight_ = false;
  if (retry_after > opts_.max_pause) {
    // Waiting that long for a preview is pointless: the final goes out as
    // new messages once the chat may send again (the telegram actor holds
    // it for the whole retry_after).
    abandoned_ = true;
    paused_until_ = now;
    return;
  }
  paused_until_ = now + retry_after;
  // The text was not shown: send it again once the pause is over.
  last_sent_.clear();
  same_ = -1;
}

void stream_edit::on_failure(clock::time_point now) {
  in_flight_ = false;
  last_call_at_ = now;
  last_sent_.clear();
  same_ = -1;
  if (++failures_ >= opts_.max_failures)
    abandoned_ = true;
  paused_until_ = now + opts_.edit_interval;
}

std::string encode_edit_message_text(int64_t chat_id, int64_t message_id,
                                     std::string_view text,
                                     std::string_view parse_mode,
                                     std::string_view reply_markup) {
  json_writer w;
  w.begin_object().field("chat_id", chat_id).field("message_id", message_id);
  w.field("text", text);
  if (!parse_mode.empty())
    w.field("parse_mode", parse_mode);
  if (!reply_markup.empty())
    w.key("reply_markup").raw(reply_markup);
  w.key("link_preview_options").begin_object().field("is_disabled", true);
  w.end_object().end_object();
  return w.take();
}

std::string encode_message_draft(int64_t chat_id, uint64_t draft_id,
                                 std::string_view text) {
  json_writer w;
  w.begin_object().field("chat_id", chat_id).field("draft_id", draft_id);
  w.field("text", text);
  return w.end_object().take();
}

} // namespace zaki
