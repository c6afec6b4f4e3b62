#include "telegram/html.hpp"

#include <md4c.h>

#include <cstdint>
#include <string>
#include <vector>

// LLM Markdown to Telegram HTML through md4c (CommonMark with GitHub's
// strikethrough and bare URL links). md4c parses; this file only renders,
// and it never has to be trusted blindly: it emits only tags it opened
// itself, skips the nestings Telegram rejects, and the tests run its output
// through the checker (telegram/html.cpp).

namespace zaki {

namespace {

// md4c's dialect: raw HTML stays text (it is escaped), no indented code
// blocks (LLMs indent prose), ~~strike~~ and bare http(s) URLs.
constexpr unsigned md_flags = MD_FLAG_NOHTML | MD_FLAG_NOINDENTEDCODEBLOCKS
  | MD_FLAG_STRIKETHROUGH | MD_FLAG_PERMISSIVEURLAUTOLINKS;

constexpr std::string_view bullet = "\xE2\x80\xA2 ";

constexpr std::string_view rule = "\xE2\x80\x94\xE2\x80\x94\xE2\x80\x94";

/// Returns the text of an md4c attribute (href, language). md4c already
/// resolved backslash escapes; entities stay as written.
std::string_view attribute(const MD_ATTRIBUTE& a) {
  return {a.text, a.size};
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      return false;
  return true;
}

/// The inline tags the renderer emits.
enum tag_kind : int { bold_tag, italic_tag, strike_tag, code_tag, link_tag };

constexpr const char* close_text[] = {"</b>", "</i>", "</s>", "</code>",
                                      "</a>"};

/// One inline tag written and not yet closed.
struct open_tag {
  tag_kind kind;
  std::string text;
};

/// One list being rendered: its item counter (0 for bullets) and depth.
struct list_frame {
  bool ordered;
  unsigned next;
};

/// Renders md4c's events as Telegram HTML. Telegram forbids a tag inside one
/// of its own kind, any tag inside code, `pre` or `blockquote` inside
/// anything, and code or links inside links and blockquotes: such spans
/// render as their text, and links render literally as `[text](url)`.
class renderer {
public:
  renderer(std::string& out, std::string_view doc) : out_(out), doc_(doc) {
    // nop
  }

  int enter_block(MD_BLOCKTYPE type, void* detail) {
    switch (type) {
      case MD_BLOCK_DOC: break;
      case MD_BLOCK_QUOTE:
        if (quote_++ == 0) {
          separate();
          quote_start_ = out_.size();
          out_ += "<blockquote>";
        }
        break;
      case MD_BLOCK_UL:
      case MD_BLOCK_OL: {
        auto ordered = type == MD_BLOCK_OL;
        auto start = ordered ? static_cast<MD_BLOCK_OL_DETAIL*>(detail)->start
                             : 0u;
        // A list nested in an item starts on the next line.
        if (!lists_.empty())
          pending_ = pending_ > 1 ? pending_ : 1;
        lists_.push_back({ordered, start});
        break;
      }
      case MD_BLOCK_LI: {
        separate();
        out_.append(2 * (lists_.size() - 1), ' ');
        auto& l = lists_.back();
        if (l.ordered) {
          out_ += std::to_string(l.next++);
          out_ += ". ";
        } else {
          out_ += bullet;
        }
        item_open_ = true;
        break;
      }
      case MD_BLOCK_HR:
        separate();
        out_ += rule;
        break;
      case MD_BLOCK_H:
        separate();
        heading_start_ = out_.size();
        open(bold_, bold_tag, "<b>");
        break;
      case MD_BLOCK_CODE: {
        separate();
        auto* d = static_cast<MD_BLOCK_CODE_DETAIL*>(detail);
        auto lang = attribute(d->lang);
        language_ = is_valid_code_language(lang) ? lang : std::string_view{};
        in_code_block_ = true;
        code_.clear();
        break;
      }
      case MD_BLOCK_P:
      default:
        // A paragraph right after its item's bullet goes on the same line.
        if (!item_open_)
          separate();
        break;
    }
    if (type != MD_BLOCK_LI && type != MD_BLOCK_DOC && type != MD_BLOCK_UL
        && type != MD_BLOCK_OL && type != MD_BLOCK_QUOTE)
      item_open_ = false;
    return 0;
  }

  int leave_block(MD_BLOCKTYPE type, void*) {
    if (type != MD_BLOCK_H)
      close_all_inline();
    switch (type) {
      case MD_BLOCK_QUOTE:
        if (--quote_ == 0) {
          // An empty blockquote would be an empty entity: drop it.
          if (out_.size() == quote_start_ + 12)
            out_.resize(quote_start_);
          else
            out_ += "</blockquote>";
          pending_ = 2;
        }
        break;
      case MD_BLOCK_UL:
      case MD_BLOCK_OL:
        lists_.pop_back();
        pending_ = lists_.empty() ? 2 : 1;
        break;
      case MD_BLOCK_LI:
        item_open_ = false;
        pending_ = 1;
        break;
      case MD_BLOCK_H:
        // An empty heading ("#") would be an empty entity: drop it.
        if (out_.size() == heading_start_ + 3 && !tags_.empty()
            && tags_.back().kind == bold_tag) {
          --bold_;
          tags_.pop_back();
          out_.resize(heading_start_);
        } else {
          close(bold_, bold_tag);
        }
        close_all_inline();
        pending_ = 2;
        break;
      case MD_BLOCK_CODE:
        in_code_block_ = false;
        end_code_block();
        pending_ = 2;
        break;
      case MD_BLOCK_DOC: break;
      default: pending_ = lists_.empty() || quote_ > 0 ? 2 : 1; break;
    }
    return 0;
  }

  int enter_span(MD_SPANTYPE type, void* detail) {
    switch (type) {
      case MD_SPAN_STRONG: open(bold_, bold_tag, "<b>"); break;
      case MD_SPAN_EM: open(italic_, italic_tag, "<i>"); break;
      case MD_SPAN_DEL: open(strike_, strike_tag, "<s>"); break;
      case MD_SPAN_CODE:
        if (code_span_++ == 0 && link_ == 0 && quote_ == 0)
          push_tag(code_tag, "<code>");
        break;
      case MD_SPAN_A:
        enter_link(*static_cast<MD_SPAN_A_DETAIL*>(detail));
        break;
      default:
        // Images (and anything else) render as their text.
        break;
    }
    return 0;
  }

  int leave_span(MD_SPANTYPE type, void*) {
    switch (type) {
      case MD_SPAN_STRONG: close(bold_, bold_tag); break;
      case MD_SPAN_EM: close(italic_, italic_tag); break;
      case MD_SPAN_DEL: close(strike_, strike_tag); break;
      case MD_SPAN_CODE:
        if (code_span_ > 0 && --code_span_ == 0)
          pop_tag(code_tag);
        break;
      case MD_SPAN_A:
        if (!link_stack_.empty())
          leave_link();
        break;
      default: break;
    }
    return 0;
  }

  int text(MD_TEXTTYPE type, std::string_view s) {
    if (!link_stack_.empty() && link_stack_.back().src == nullptr)
      link_stack_.back().src = s.data();
    if (in_code_block_) {
      code_.append(s.data(), s.size());
      return 0;
    }
    switch (type) {
      case MD_TEXT_NULLCHAR: out_ += "\xEF\xBF\xBD"; break;
      case MD_TEXT_BR:
      case MD_TEXT_SOFTBR: out_ += '\n'; break;
      default:
        // Entities stay as written: "&amp;" shows as "&amp;".
        append_html_escaped(out_, s);
        break;
    }
    return 0;
  }

private:
  /// Writes the line breaks owed to the previous block, if any.
  void separate() {
    if (!out_.empty())
      out_.append(pending_, '\n');
    pending_ = 0;
  }

  /// Opens a span unless one of its kind is open already.
  void open(int& depth, tag_kind kind, const char* tag) {
    if (depth++ == 0)
      push_tag(kind, tag);
  }

  /// Closes a span opened by `open`. md4c 0.4.8 sometimes leaves a span it
  /// never entered (`_` at the end of a bare URL): that leave is ignored.
  void close(int& depth, tag_kind kind) {
    if (depth == 0)
      return;
    if (--depth == 0)
      pop_tag(kind);
  }

  void push_tag(tag_kind kind, std::string text) {
    out_ += text;
    tags_.push_back({kind, std::move(text)});
  }

  /// Closes the innermost open tag of `kind`. md4c 0.4.8 sometimes leaves
  /// spans out of order (`<i><b>` closed as `</i></b>`): the tags opened
  /// inside it are closed first and opened again after it, so the output
  /// always nests. Returns whether such a tag was open.
  bool pop_tag(tag_kind kind) {
    auto i = tags_.size();
    while (i > 0 && tags_[i - 1].kind != kind)
      --i;
    if (i == 0)
      return false;
    auto at = i - 1;
    for (auto j = tags_.size(); j > at; --j)
      out_ += close_text[tags_[j - 1].kind];
    tags_.erase(tags_.begin() + static_cast<std::ptrdiff_t>(at));
    for (auto j = at; j < tags_.size(); ++j)
      out_ += tags_[j].text;
    return true;
  }

  /// Closes every inline tag still open at the end of a block: a span
  /// never runs from one block into the next.
  void close_all_inline() {
    while (!tags_.empty()) {
      out_ += close_text[tags_.back().kind];
      tags_.pop_back();
    }
    bold_ = italic_ = strike_ = code_span_ = 0;
  }

  void enter_link(const MD_SPAN_A_DETAIL& d) {
    link_stack_.push_back({out_.size(), std::string{attribute(d.href)}, false});
    auto& l = link_stack_.back();
    if (link_++ == 0 && quote_ == 0 && code_span_ == 0
        && is_safe_link_url(l.href)) {
      l.tag = true;
      std::string tag = "<a href=\"";
      append_html_escaped(tag, l.href);
      tag += "\">";
      push_tag(link_tag, std::move(tag));
    } else {
      out_ += '[';
    }
    l.text_start = out_.size();
  }

  void leave_link() {
    auto l = std::move(link_stack_.back());
    link_stack_.pop_back();
    --link_;
    std::string_view shown{out_.data() + l.text_start,
                           out_.size() - l.text_start};
    // Only a link with nothing opened inside it may go back to its source.
    bool innermost = !tags_.empty() && tags_.back().kind == link_tag;
    if (l.tag && (!is_blank(shown) || !innermost)) {
      pop_tag(link_tag);
      return;
    }
    auto escaped_href = html_escape(l.href);
    if (l.tag) {
      tags_.pop_back();
      // An empty link text: no entity, the source as text.
      out_.resize(l.start);
      out_ += "[](";
      out_ += escaped_href;
      out_ += ')';
    } else if (shown == escaped_href) {
      // An autolink that may not be a link (<javascript:x>, or any in a
      // quote): as written, in angle brackets or bare. md4c hands out
      // text as views into the document, so the source shows which.
      auto doc_begin = doc_.data();
      auto doc_end = doc_begin + doc_.size();
      if (l.src > doc_begin && l.src < doc_end && l.src[-1] == '<') {
        out_.replace(l.start, 1, "&lt;");
        out_ += "&gt;";
      } else {
        out_.erase(l.start, 1);
      }
    } else {
      out_ += "](";
      out_ += escaped_href;
      out_ += ')';
    }
  }

  void end_code_block() {
    std::string_view content = code_;
    if (!content.empty() && content.back() == '\n')
      content.remove_suffix(1);
    if (is_blank(content))
      return;
    if (quote_ > 0) {
      // No pre inside a blockquote: the code as text.
      append_html_escaped(out_, content);
    } else if (language_.empty()) {
      out_ += "<pre>";
      append_html_escaped(out_, content);
      out_ += "</pre>";
    } else {
      out_ += "<pre><code class=\"language-";
      out_.append(language_.data(), language_.size());
      out_ += "\">";
      append_html_escaped(out_, content);
      out_ += "</code></pre>";
    }
  }

  struct link_frame {
    size_t start;
    std::string href;
    bool tag;
    size_t text_start = 0;
    /// Where the link's text starts in the document, if it is a view.
    const char* src = nullptr;
  };

  std::string& out_;
  std::string_view doc_;
  size_t pending_ = 0;
  std::vector<open_tag> tags_;
  int bold_ = 0;
  int italic_ = 0;
  int strike_ = 0;
  int code_span_ = 0;
  int link_ = 0;
  int quote_ = 0;
  size_t quote_start_ = 0;
  size_t heading_start_ = 0;
  bool item_open_ = false;
  bool in_code_block_ = false;
  std::string_view language_;
  std::string code_;
  std::vector<list_frame> lists_;
  std::vector<link_frame> link_stack_;
};

renderer& self(void* p) {
  return *static_cast<renderer*>(p);
}

const MD_PARSER md_parser = {
  0,
  md_flags,
  [](MD_BLOCKTYPE t, void* d, void* u) {
    return self(u).enter_block(t, d);
  },
  [](MD_BLOCKTYPE t, void* d, void* u) {
    return self(u).leave_block(t, d);
  },
  [](MD_SPANTYPE t, void* d, void* u) {
    return self(u).enter_span(t, d);
  },
  [](MD_SPANTYPE t, void* d, void* u) {
    return self(u).leave_span(t, d);
  },
  [](MD_TEXTTYPE t, const MD_CHAR* s, MD_SIZE n, void* u) {
    return self(u).text(t, {s, n});
  },
  nullptr,
  nullptr,
};

/// Returns whether md4c would render `md` as one paragraph of its escaped
/// text: one line without leading or trailing blanks, nothing that opens a
/// block at its start, no inline syntax (emphasis, code, links, escapes,
/// entities, `<`) and no bare URL. Most chat replies are such a line, and
/// md4c's setup costs more than escaping them (benches/README.md).
bool is_plain_line(std::string_view md) {
  if (md.empty())
    return false;
  auto first = md.front();
  auto last = md.back();
  if (first == ' ' || first == '\t' || last == ' ' || last == '\t'
      || (first >= '0' && first <= '9'))
    return false;
  switch (first) {
    case '#':
    case '>':
    case '-':
    case '+':
    case '=':
    case '|': return false;
    default: break;
  }
  for (char c : md) {
    switch (c) {
      case '\n':
      case '\r':
      case '\0':
      case '\\':
      case '`':
      case '*':
      case '_':
      case '~':
      case '[':
      case ']':
      case '!':
      case '<':
      case '&': return false;
      default: break;
    }
  }
  return md.find("://") == std::string_view::npos;
}

} // namespace

std::string markdown_to_telegram_html(std::string_view md) {
  if (is_plain_line(md))
    return html_escape(md);
  // md4c 0.4.8 (Debian 12) reads the byte after the document in places:
  // "[a](b" followed in memory by ")" parses as a link whose text runs past
  // the end, or crashes md4c. A view need not
  // end where its buffer does, so md4c gets a copy that ends in the NUL of
  // std::string, which stops every such read.
  std::string doc{md};
  std::string out;
  out.reserve(md.size() + md.size() / 4 + 16);
  renderer r{out, doc};
  // md4c only fails on memory exhaustion; the caller then sends plain text
  // (an empty result has no visible text).
  if (md_parse(doc.c_str(), static_cast<MD_SIZE>(doc.size()), &md_parser, &r)
      != 0)
    out.clear();
  return out;
}

} // namespace zaki
