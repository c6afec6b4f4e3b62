#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "telegram/text.hpp"

namespace zaki {

// Telegram HTML (parse_mode "HTML") for texts the router sends.
//
// Splitting: Telegram limits a message to 4096 UTF-16 units of *parsed*
// text. Callers split the Markdown source first (at blank lines, outside
// fenced code blocks where possible; OpenClaw uses 4000), convert each
// chunk with markdown_to_telegram_html, and may check the result with
// html_fits. A chunk cut inside a fenced block still converts safely: an
// unclosed fence runs to the end of the chunk, as in CommonMark.
//
// Fallback: if Telegram still answers 400 "can't parse entities", resend the
// Markdown source as plain text without parse_mode.

/// Returns `s` with `&`, `<`, `>` and `"` replaced by `&amp;`, `&lt;`, `&gt;`
/// and `&quot;`, safe as Telegram HTML text and attribute value. Invalid
/// UTF-8 sequences become U+FFFD, because Telegram rejects them.
std::string html_escape(std::string_view s);

/// Appends html_escape(s) to `out`.
void append_html_escaped(std::string& out, std::string_view s);

/// Returns whether `url` may become a link: an http, https or tg URL of at
/// most 2048 bytes without spaces, control characters, `<`, `>` or quotes.
bool is_safe_link_url(std::string_view url);

/// Returns whether `lang` may name a code block's language
/// (`<code class="language-x">`): 1 to 32 characters of [A-Za-z0-9_+#.-].
bool is_valid_code_language(std::string_view lang);

/// Converts LLM Markdown into Telegram HTML, parsed by md4c as CommonMark
/// with GitHub's ~strike~ and bare http(s) URLs (raw HTML stays text and is
/// escaped; indented code blocks are off, LLMs indent prose). Rendered:
/// **bold**, *italic*, ~~strike~~, `code`, fenced blocks (with a valid
/// language as `<pre><code class="language-x">`), [text](url) for safe URLs
/// and autolinks, headings as bold lines, > blockquotes, bullets as "•",
/// numbered items, rules as "———"; blocks are separated by a blank line.
/// Telegram's nesting rules are kept: no tag inside its own kind, no code or
/// link inside a link or blockquote (code loses its tag, links show as
/// `[text](url)`), no pre inside a blockquote; links with other schemes show
/// literally. The output always satisfies is_balanced_telegram_html.
/// Defined in telegram/markdown.cpp; telegram/markdown.hpp adds the
/// chunking of long answers.
std::string markdown_to_telegram_html(std::string_view md);

/// Returns whether `html` is safe to send with parse_mode HTML: valid UTF-8;
/// only Telegram's tags (b strong i em u ins s strike del code pre a
/// blockquote span.tg-spoiler tg-spoiler tg-emoji) with their allowed
/// attributes; proper nesting (no tag inside code, only code inside pre, pre
/// and blockquote at top level, no tag inside one of its own kind, no code
/// or link inside a link or blockquote, following the Bot API's nesting
/// rules); safe hrefs; `&` only in valid entities; no bare `<` or `>`. Use
/// it as a last check before sending HTML built from untrusted parts.
bool is_balanced_telegram_html(std::string_view html);

/// Returns the length Telegram counts for `html` after entity parsing, in
/// UTF-16 units: tags count 0, an entity counts as the character it stands
/// for. Assumes well-formed input (see is_balanced_telegram_html).
size_t html_text_utf16_length(std::string_view html);

/// Returns whether the parsed text of `html` is at most `limit` UTF-16 units.
bool html_fits(std::string_view html, size_t limit = 4096);

} // namespace zaki
