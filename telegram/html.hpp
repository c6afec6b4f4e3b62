#pragma once

#include <cstddef>
#include <string>
#include <string_view>

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

/// Returns the length of UTF-8 text in UTF-16 code units (Telegram's unit):
/// one per code point, two for code points above U+FFFF.
size_t utf16_length(std::string_view utf8);

/// Returns whether `url` may become a link: an http, https or tg URL of at
/// most 2048 bytes without spaces, control characters, `<`, `>` or quotes.
bool is_safe_link_url(std::string_view url);

/// Returns whether `lang` may name a code block's language
/// (`<code class="language-x">`): 1 to 32 characters of [A-Za-z0-9_+#.-].
bool is_valid_code_language(std::string_view lang);

/// Converts the Markdown subset LLMs write into Telegram HTML. Supported:
/// **bold** and __bold__, *italic* and _italic_ (not inside words, so
/// snake_case_words and 2*3*4 stay literal), ***both***, ~~strike~~,
/// `code`, fenced blocks (``` or ~~~, with a language becoming
/// `<pre><code class="language-x">`), [text](url) for safe URLs,
/// <https://autolinks>, headings (bold lines), > blockquotes, "- " and "* "
/// bullets (rendered as "•"), horizontal rules and backslash escapes. Inside
/// links and blockquotes, code spans lose their tag and links stay literal,
/// as Telegram does not nest those entities. Bare URLs are left alone.
/// Everything else, including unbalanced markers and links with other
/// schemes, is emitted as escaped literal text. The output always satisfies
/// is_balanced_telegram_html. Emphasis does not span lines. Defined in
/// telegram_markdown.cpp; telegram_markdown.hpp adds the chunking of long
/// answers.
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
