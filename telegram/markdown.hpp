#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "telegram/html.hpp"

namespace zaki {

/// Source size of one chunk of a long answer, in UTF-16 units: Telegram's
/// 4096 minus a margin, as OpenClaw uses. Conversion only removes
/// characters (markers, link targets), so a chunk of this size fits.
constexpr size_t markdown_chunk_limit = 4000;

/// One message of a converted answer.
struct telegram_chunk {
  /// Telegram HTML when `html` is set, otherwise plain text.
  std::string text;
  /// Whether `text` is sent with parse_mode "HTML".
  bool html = false;
  /// The Markdown source of this chunk: the plain-text resend when Telegram
  /// answers "can't parse entities".
  std::string plain;
};

/// Splits a gateway answer (Markdown) into messages and converts each one:
/// the source is split first (at blank lines, then lines, then spaces) into
/// pieces of at most `limit` UTF-16 units; a fenced code block cut in two is
/// closed at the end of one piece and reopened (with its language) at the
/// start of the next. Each piece is converted with markdown_to_telegram_html
/// and kept as HTML only if it passes is_balanced_telegram_html and
/// html_fits, and whose raw HTML is within 4096 units as well (escaping can
/// make code several times longer; such a piece is split again, halving the
/// limit); otherwise it goes out as plain text. Pieces without visible text
/// are dropped, so an all-blank answer gives no chunks.
std::vector<telegram_chunk>
markdown_to_telegram_chunks(std::string_view md,
                            size_t limit = markdown_chunk_limit);

} // namespace zaki
