#pragma once

#include <string>
#include <string_view>

#include "chat/error_catalogue.hpp"

namespace zaki {

/// Optional parts of a rendered error.
struct render_options {
  /// Target of the Help button; an http, https or tg URL. Empty, or not a
  /// safe URL (see is_safe_link_url), means no Help button. The placeholder
  /// "{code}" is replaced by the error id, e.g.
  /// "https://example.org/help#{code}".
  std::string help_url;
  /// Situational detail shown under the explanation, e.g. "You can retry in
  /// 30 s." or "Messages ahead of yours: 4." Plain text; it is escaped.
  std::string detail;
};

/// A message ready for sendMessage with parse_mode "HTML".
struct rendered_error {
  /// The `text` parameter (Telegram HTML; passes is_balanced_telegram_html).
  std::string text_html;
  /// The `reply_markup` parameter (an InlineKeyboardMarkup as JSON text), or
  /// empty when no button applies; then omit reply_markup.
  std::string reply_markup_json;
};

/// Renders `code` for a Telegram chat: emoji and bold title, explanation,
/// optional detail, what to do, and a footer with the error id and request
/// id in <code>. Buttons, all in one row and only where the entry allows:
/// "🔄 Retry" (callback "z1:r:<request_id>"), "❓ Help" (URL) and
/// "✖️ Dismiss" (callback "z1:d:<request_id>"). Retry and Dismiss need a
/// valid request id (is_valid_request_id); without one they are left out
/// and the footer shows only the error id. Operator-only entries render
/// without buttons; callers should not send them to users at all.
rendered_error render_for_telegram(error_code code, std::string_view request_id,
                                   const render_options& options = {});

/// Renders the same message as plain text, for a resend without parse_mode
/// after Telegram answers "can't parse entities" (keep the reply_markup).
std::string render_plain_text(error_code code, std::string_view request_id,
                              std::string_view detail = {});

/// Renders `code` as one JSON object for the admin API and the logs:
/// {"code":"ZR-...","title":...,"message":...,"action":...,"request_id":...,
/// "retryable":bool,"http_status":int} plus "detail" when not empty.
/// `request_id` is written as given (JSON-escaped), empty included.
std::string render_json(error_code code, std::string_view request_id,
                        std::string_view detail = {});

} // namespace zaki
