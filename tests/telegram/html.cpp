#define CAF_SUITE telegram.html
#include "caf/test/unit_test.hpp"

#include "telegram/html.hpp"

#include <chrono>
#include <random>
#include <string>

using namespace zaki;

namespace {

std::string md(std::string_view in) {
  auto out = markdown_to_telegram_html(in);
  // Every conversion in this suite must also pass the checker.
  CAF_CHECK(is_balanced_telegram_html(out));
  return out;
}

} // namespace

CAF_TEST(escaping) {
  CAF_CHECK_EQUAL(html_escape("a < b > c & d \"e\" 'f'"),
                  "a &lt; b &gt; c &amp; d &quot;e&quot; 'f'");
  CAF_CHECK_EQUAL(html_escape(""), "");
  CAF_CHECK_EQUAL(html_escape("Привет 😀"), "Привет 😀");
  // Invalid UTF-8 (a lone continuation byte, a cut 4-byte sequence, an
  // encoded surrogate, an overlong '/') becomes U+FFFD, byte by byte.
  CAF_CHECK_EQUAL(html_escape("a\x80z"), "a\xEF\xBF\xBDz");
  CAF_CHECK_EQUAL(html_escape("\xF0\x9F\x98"),
                  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CAF_CHECK_EQUAL(html_escape("\xED\xA0\x80").size(), 9u);
  CAF_CHECK_EQUAL(html_escape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  CAF_CHECK(is_balanced_telegram_html(html_escape("<b>\xFF</b>")));
}

CAF_TEST(utf16 length) {
  CAF_CHECK_EQUAL(utf16_length(""), 0u);
  CAF_CHECK_EQUAL(utf16_length("abc"), 3u);
  CAF_CHECK_EQUAL(utf16_length("Привет"), 6u); // 2-byte sequences
  CAF_CHECK_EQUAL(utf16_length("€"), 1u);      // 3 bytes, BMP
  CAF_CHECK_EQUAL(utf16_length("😀"), 2u);      // surrogate pair
  CAF_CHECK_EQUAL(utf16_length("a😀b"), 4u);
  CAF_CHECK_EQUAL(utf16_length("👍🏽"), 4u); // emoji + skin tone
  CAF_CHECK_EQUAL(utf16_length("👨‍👩‍👧"),
                  8u); // ZWJ family: 3*2 + 2
}

CAF_TEST(parsed length of html) {
  CAF_CHECK_EQUAL(html_text_utf16_length("<b>ab</b>"), 2u);
  CAF_CHECK_EQUAL(html_text_utf16_length("&lt;&amp;&gt;&quot;"), 4u);
  CAF_CHECK_EQUAL(html_text_utf16_length("&#128512;&#x1F600;&#65;"), 5u);
  CAF_CHECK_EQUAL(
    html_text_utf16_length("<a href=\"https://e.com/?a=1&amp;b\">x</a>"), 1u);
  CAF_CHECK_EQUAL(html_text_utf16_length("😀 <i>Привет</i>"), 9u);
  std::string big(4096, 'x');
  CAF_CHECK(html_fits(big));
  CAF_CHECK(!html_fits(big + "y"));
  // 4096 characters of "<" are 16384 bytes of "&lt;" but still fit.
  auto lt = markdown_to_telegram_html(std::string(4096, '<'));
  CAF_CHECK_EQUAL(lt.size(), 4u * 4096);
  CAF_CHECK(html_fits(lt, 4096));
  CAF_CHECK(!html_fits(lt, 4095));
}

CAF_TEST(link url policy) {
  CAF_CHECK(is_safe_link_url("https://example.com"));
  CAF_CHECK(is_safe_link_url("HTTP://EXAMPLE.COM/x"));
  CAF_CHECK(is_safe_link_url("tg://user?id=42"));
  CAF_CHECK(is_safe_link_url("https://e.com/\"q\""));
  CAF_CHECK(!is_safe_link_url("https://"));
  CAF_CHECK(!is_safe_link_url("javascript:alert(1)"));
  CAF_CHECK(!is_safe_link_url("JavaScript:alert(1)"));
  CAF_CHECK(!is_safe_link_url("data:text/html,x"));
  CAF_CHECK(!is_safe_link_url("file:///etc/passwd"));
  CAF_CHECK(!is_safe_link_url("//e.com"));
  CAF_CHECK(!is_safe_link_url(" https://e.com"));
  CAF_CHECK(!is_safe_link_url("https://e.com/a b"));
  CAF_CHECK(!is_safe_link_url("https://e.com/<x>"));
  CAF_CHECK(!is_safe_link_url("https://e.com/\n"));
  CAF_CHECK(!is_safe_link_url("https://" + std::string(3000, 'a')));
}

CAF_TEST(emphasis) {
  CAF_CHECK_EQUAL(md("**bold** and __bold__"), "<b>bold</b> and <b>bold</b>");
  CAF_CHECK_EQUAL(md("*it* and _it_"), "<i>it</i> and <i>it</i>");
  CAF_CHECK_EQUAL(md("***both***"), "<i><b>both</b></i>");
  // GitHub's strikethrough takes one tilde as well as two.
  CAF_CHECK_EQUAL(md("~~gone~~ ~also~"), "<s>gone</s> <s>also</s>");
  CAF_CHECK_EQUAL(md("**nested *it* inside**"),
                  "<b>nested <i>it</i> inside</b>");
  CAF_CHECK_EQUAL(md("*a **b** c*"), "<i>a <b>b</b> c</i>");
  // Same kind inside same kind: the inner markers vanish, no <b><b>.
  CAF_CHECK_EQUAL(md("**a __b__ c**"), "<b>a b c</b>");
  CAF_CHECK_EQUAL(md("Note: **important**."), "Note: <b>important</b>.");
  CAF_CHECK_EQUAL(md("(*aside*)"), "(<i>aside</i>)");
}

CAF_TEST(markers inside words and lone markers stay literal) {
  CAF_CHECK_EQUAL(md("snake_case_words"), "snake_case_words");
  CAF_CHECK_EQUAL(md("call my_func_name() now"), "call my_func_name() now");
  // CommonMark: `*` may open inside a word (`_` may not), so 2*3*4 has an
  // emphasis; LLMs write products with spaces or in code.
  CAF_CHECK_EQUAL(md("2*3*4 = 24"), "2<i>3</i>4 = 24");
  CAF_CHECK_EQUAL(md("`2*3*4` = 24"), "<code>2*3*4</code> = 24");
  CAF_CHECK_EQUAL(md("a * b * c"), "a * b * c");
  CAF_CHECK_EQUAL(md("**"), "**");
  CAF_CHECK_EQUAL(md("x ** y"), "x ** y");
  CAF_CHECK_EQUAL(md("a **** b"), "a **** b");
  // At the start of a line these are a bullet and a rule.
  CAF_CHECK_EQUAL(md("* "), "\xE2\x80\xA2 ");
  CAF_CHECK_EQUAL(md("****"), "\xE2\x80\x94\xE2\x80\x94\xE2\x80\x94");
  CAF_CHECK_EQUAL(md("** not bold **"), "** not bold **");
  CAF_CHECK_EQUAL(md("файл_имя_тест"), "файл_имя_тест");
  CAF_CHECK_EQUAL(md("\\*not italic\\*"), "*not italic*");
}

CAF_TEST(broken and unbalanced markdown is literal) {
  CAF_CHECK_EQUAL(md("**unclosed bold"), "**unclosed bold");
  CAF_CHECK_EQUAL(md("**bold *italic"), "**bold *italic");
  CAF_CHECK_EQUAL(md("mixed **bold *and italic** end*"),
                  "mixed <i>bold and italic end</i>");
  CAF_CHECK_EQUAL(md("`unclosed code"), "`unclosed code");
  // The bare URL becomes a link of its own.
  CAF_CHECK_EQUAL(md("[text](https://e.com"),
                  "[text](<a href=\"https://e.com\">https://e.com</a>");
  CAF_CHECK_EQUAL(md("[text]"), "[text]");
  // Emphasis spans the lines of a paragraph (CommonMark).
  CAF_CHECK_EQUAL(md("**bold\nacross** lines"), "<b>bold\nacross</b> lines");
  CAF_CHECK_EQUAL(md("__**x__**"), "<b>**x</b>**");
  CAF_CHECK_EQUAL(md("``"), "``");
  CAF_CHECK_EQUAL(md("` `"), "<code> </code>");
  CAF_CHECK_EQUAL(md("[](https://e.com)"), "[](https://e.com)");
}

CAF_TEST(html in the text is escaped) {
  CAF_CHECK_EQUAL(md("<script>alert('x')</script>"),
                  "&lt;script&gt;alert('x')&lt;/script&gt;");
  CAF_CHECK_EQUAL(md("<b>not ours</b> & co"),
                  "&lt;b&gt;not ours&lt;/b&gt; &amp; co");
  CAF_CHECK_EQUAL(md("a &amp; b"), "a &amp;amp; b");
  CAF_CHECK_EQUAL(md("**<i>x</i>**"), "<b>&lt;i&gt;x&lt;/i&gt;</b>");
}

CAF_TEST(code) {
  CAF_CHECK_EQUAL(md("`a < b && c > d`"),
                  "<code>a &lt; b &amp;&amp; c &gt; d</code>");
  CAF_CHECK_EQUAL(md("``with ` tick``"), "<code>with ` tick</code>");
  CAF_CHECK_EQUAL(md("`**not bold**`"), "<code>**not bold**</code>");
  CAF_CHECK_EQUAL(md("**`code`**"), "<b><code>code</code></b>");
  CAF_CHECK_EQUAL(md("```python\nif a < b:\n    print(\"&\")\n```"),
                  "<pre><code class=\"language-python\">if a &lt; b:\n"
                  "    print(&quot;&amp;&quot;)</code></pre>");
  CAF_CHECK_EQUAL(md("```\n<tag> & **x**\n```\nafter *it*"),
                  "<pre>&lt;tag&gt; &amp; **x**</pre>\n\nafter <i>it</i>");
  CAF_CHECK_EQUAL(md("~~~c++\nint x;\n~~~"),
                  "<pre><code class=\"language-c++\">int x;</code></pre>");
  // A language with odd characters is dropped, not escaped into the class.
  CAF_CHECK_EQUAL(md("```a\"b onclick=x\ncode\n```"), "<pre>code</pre>");
  // An unclosed fence (a chunk cut inside a block) runs to the end.
  CAF_CHECK_EQUAL(
    md("text\n```js\nlet a = 1;"),
    "text\n\n<pre><code class=\"language-js\">let a = 1;</code></pre>");
  CAF_CHECK_EQUAL(md("```\n```"), "");
  CAF_CHECK_EQUAL(md("  ```\n  indented\n    more\n  ```"),
                  "<pre>indented\n  more</pre>");
}

CAF_TEST(links) {
  CAF_CHECK_EQUAL(md("[docs](https://e.com/a?b=1&c=2)"),
                  "<a href=\"https://e.com/a?b=1&amp;c=2\">docs</a>");
  CAF_CHECK_EQUAL(md("[**bold**](http://e.com)"),
                  "<a href=\"http://e.com\"><b>bold</b></a>");
  CAF_CHECK_EQUAL(md("[wiki](https://en.wikipedia.org/wiki/C_(language))"),
                  "<a href=\"https://en.wikipedia.org/wiki/C_(language)\">"
                  "wiki</a>");
  CAF_CHECK_EQUAL(md("[t](https://e.com \"Title\")"),
                  "<a href=\"https://e.com\">t</a>");
  CAF_CHECK_EQUAL(md("[q](https://e.com/\"onmouseover=\"x)"),
                  "<a href=\"https://e.com/&quot;onmouseover=&quot;x\">q</a>");
  CAF_CHECK_EQUAL(md("[x](javascript:alert(1))"), "[x](javascript:alert(1))");
  CAF_CHECK_EQUAL(md("[*x*](JAVASCRIPT:alert(1))"),
                  "[<i>x</i>](JAVASCRIPT:alert(1))");
  CAF_CHECK_EQUAL(md("[x](data:text/html,<b>)"),
                  "[x](data:text/html,&lt;b&gt;)");
  CAF_CHECK_EQUAL(md("[`code`](https://e.com)"),
                  "<a href=\"https://e.com\">code</a>");
  CAF_CHECK_EQUAL(md("<https://e.com/a_b_>"),
                  "<a href=\"https://e.com/a_b_\">https://e.com/a_b_</a>");
  CAF_CHECK_EQUAL(md("<javascript:x>"), "&lt;javascript:x&gt;");
  // Bare URLs are links; md4c 0.4.8 drops a `_` that ends one.
  CAF_CHECK_EQUAL(md("see https://e.com/a_b and *y*"),
                  "see <a href=\"https://e.com/a_b\">https://e.com/a_b</a> "
                  "and <i>y</i>");
  CAF_CHECK_EQUAL(md("see https://e.com/_x_ and *y*"),
                  "see <a href=\"https://e.com/_x\">https://e.com/_x</a> and "
                  "<i>y</i>");
}

// md4c 0.4.8 reads the byte after the document: with ")" there, "[a](b"
// became a link whose text ran past the end (the fuzzer found the read).
// A view of the start of a longer buffer must render as that text alone.
CAF_TEST(a view renders only what it covers) {
  for (std::string_view doc : {"[a](b", "see [x](e.com", "[c](d&"}) {
    std::string buffer{doc};
    buffer += ")&;(.)a&a())x; a";
    std::string_view view{buffer.data(), doc.size()};
    CAF_CHECK_EQUAL(md(view), md(std::string{doc}));
    CAF_CHECK_EQUAL(md(std::string{doc}), html_escape(doc));
  }
}

CAF_TEST(blocks) {
  // Blocks are separated by a blank line, list items by a line break.
  CAF_CHECK_EQUAL(md("# Title with *it*\n## Two ##\n#tag"),
                  "<b>Title with <i>it</i></b>\n\n<b>Two</b>\n\n#tag");
  CAF_CHECK_EQUAL(md("# **Bold** title"), "<b>Bold title</b>");
  CAF_CHECK_EQUAL(md("> quoted **b**\n> `c` [l](https://e.com)\n\nafter"),
                  "<blockquote>quoted <b>b</b>\nc [l](https://e.com)"
                  "</blockquote>\n\nafter");
  // A line right after a quote continues it (CommonMark's lazy lines).
  CAF_CHECK_EQUAL(md("> q\nafter"), "<blockquote>q\nafter</blockquote>");
  // An empty quote would be an empty entity: nothing is left (the chunker
  // then sends the source as plain text).
  CAF_CHECK_EQUAL(md(">\n>"), "");
  CAF_CHECK_EQUAL(md("- one *i*\n- two\n  + three\n1. four"),
                  "\xE2\x80\xA2 one <i>i</i>\n\xE2\x80\xA2 two\n  "
                  "\xE2\x80\xA2 three\n\n1. four");
  CAF_CHECK_EQUAL(md("3. c\n4. d"), "3. c\n4. d");
  CAF_CHECK_EQUAL(md("---"), "\xE2\x80\x94\xE2\x80\x94\xE2\x80\x94");
  CAF_CHECK_EQUAL(md("a\r\nb\r\n"), "a\nb");
  CAF_CHECK_EQUAL(md("one\n\n\n\ntwo"), "one\n\ntwo");
  CAF_CHECK_EQUAL(md(""), "");
}

CAF_TEST(non ascii text) {
  CAF_CHECK_EQUAL(md("Привет, **мир**! 😀 _курсив_ 🇺🇦"),
                  "Привет, <b>мир</b>! 😀 <i>курсив</i> 🇺🇦");
  CAF_CHECK_EQUAL(md("**😀**"), "<b>😀</b>");
  CAF_CHECK_EQUAL(md("`日本語 <>`"), "<code>日本語 &lt;&gt;</code>");
  // Invalid UTF-8 never reaches Telegram.
  CAF_CHECK_EQUAL(md("**a\xC3**"), "<b>a\xEF\xBF\xBD</b>");
}

CAF_TEST(the checker accepts telegram html) {
  for (std::string_view ok : {
         "",
         "plain",
         "<b>b</b><strong>s</strong><i>i</i><em>e</em>",
         "<u>u</u><ins>i</ins><s>s</s><strike>s</strike><del>d</del>",
         "<span class=\"tg-spoiler\">x</span><tg-spoiler>y</tg-spoiler>",
         "<a href=\"https://e.com/?a=1&amp;b=&quot;\">x</a>",
         "<code>x</code>",
         "<pre>x</pre>",
         "<pre><code class=\"language-python\">x</code></pre>",
         "<blockquote>q <b>b</b></blockquote>",
         "<blockquote expandable>q</blockquote>",
         "<b>a <i>b <s>c</s></i></b>",
         "&lt;&gt;&amp;&quot;&#65;&#x1F600;",
         "<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>",
         "\"quotes\" and 'apostrophes'",
         "<b><code>x</code></b>",
       })
    CAF_CHECK(is_balanced_telegram_html(ok));
}

CAF_TEST(the checker rejects what telegram would reject or mangle) {
  for (std::string_view bad : {
         "<b>x",
         "x</b>",
         "<b><i>x</b></i>",
         "<script>x</script>",
         "<p>x</p>",
         "<br>",
         "<b/>",
         "</>",
         "<>",
         "a < b",
         "a > b",
         "a & b",
         "&nbsp;",
         "&#;",
         "&#xZZ;",
         "&#0;",
         "&#xD800;",
         "&#1114112;",
         "<b class=\"x\">y</b>",
         "<a>x</a>",
         "<a href=\"javascript:alert(1)\">x</a>",
         "<a href='https://e.com'>x</a>",
         "<a href=\"https://e.com\" title=\"t\">x</a>",
         "<span>x</span>",
         "<span class=\"other\">x</span>",
         "<code class=\"python\">x</code>",
         "<code class=\"language-a&quot;b\">x</code>",
         "<b><b>x</b></b>",
         "<b><strong>x</strong></b>",
         "<code><b>x</b></code>",
         "<pre><b>x</b></pre>",
         "<pre>a<code>x</code></pre>",
         "<pre><code>x</code>b</pre>",
         "<b><pre>x</pre></b>",
         "<blockquote><blockquote>x</blockquote></blockquote>",
         "<a href=\"https://e.com\"><a href=\"https://e.com\">x</a></a>",
         "<a href=\"https://e.com\"><code>x</code></a>",
         "<blockquote><code>x</code></blockquote>",
         "<B>x</B>",
         "<b >x</b>",
         "</b >",
         "<b",
         "\xFF",
         "a\xC3",
       })
    CAF_CHECK(!is_balanced_telegram_html(bad));
}

CAF_TEST(random markdown always converts to balanced html) {
  // A fixed seed keeps failures reproducible; the alphabet is dense in
  // Markdown and HTML syntax so that odd combinations are common.
  const std::string_view pieces[] = {"*",
                                     "**",
                                     "***",
                                     "_",
                                     "__",
                                     "~",
                                     "~~",
                                     "`",
                                     "``",
                                     "```",
                                     "```py\n",
                                     "[",
                                     "]",
                                     "(",
                                     ")",
                                     "](",
                                     "](https://e.com)",
                                     "](javascript:x)",
                                     "<",
                                     ">",
                                     "&",
                                     "\"",
                                     "'",
                                     "\\",
                                     "#",
                                     "# ",
                                     "> ",
                                     "- ",
                                     "\n",
                                     "\n\n",
                                     " ",
                                     "a",
                                     "b",
                                     "word",
                                     "snake_case",
                                     "2*3",
                                     "Привет",
                                     "😀",
                                     "https://e.com/_",
                                     "<https://e.com>",
                                     "&amp;",
                                     "<b>",
                                     "</i>",
                                     "\t",
                                     "\r\n",
                                     "\xC3",
                                     "|"};
  std::mt19937 rng{20240611};
  std::uniform_int_distribution<size_t> pick{0, std::size(pieces) - 1};
  std::uniform_int_distribution<int> len{0, 60};
  int failures = 0;
  // How often each tag appeared, to show that the input exercises them.
  std::string_view tags[] = {"<b>",   "<i>",     "<s>",         "<code>",
                             "<pre>", "<a href", "<blockquote>"};
  int seen[std::size(tags)] = {};
  for (int round = 0; round < 20000; ++round) {
    std::string in;
    auto n = len(rng);
    for (int k = 0; k < n; ++k)
      in += pieces[pick(rng)];
    auto out = markdown_to_telegram_html(in);
    for (size_t t = 0; t < std::size(tags); ++t)
      seen[t] += out.find(tags[t]) != std::string::npos;
    if (!is_balanced_telegram_html(out)) {
      if (++failures <= 5)
        CAF_MESSAGE("unbalanced output for input: " << in << "\n-> " << out);
    }
  }
  CAF_CHECK_EQUAL(failures, 0);
  for (size_t t = 0; t < std::size(tags); ++t) {
    CAF_MESSAGE(tags[t] << " in " << seen[t] << " outputs");
    CAF_CHECK(seen[t] > 100);
  }
}

CAF_TEST(hostile input stays fast) {
  // Quadratic behaviour would show up as seconds here.
  std::string openers;
  for (int i = 0; i < 20000; ++i)
    openers += " *a _b ~~c `d [e **f";
  // Deep nesting: "*a _b **c *a _b **c ... c** b_ a* c** b_ a*".
  std::string nested;
  for (int i = 0; i < 5000; ++i)
    nested += "*a _b **c ";
  for (int i = 0; i < 5000; ++i)
    nested += "c** b_ a* ";
  std::string brackets(100000, '[');
  std::string ticks;
  for (int i = 1; i < 2000; ++i)
    ticks += std::string(static_cast<size_t>(i % 17), '`') + "x";
  for (const auto& in : {openers, nested, brackets, ticks}) {
    auto t0 = std::chrono::steady_clock::now();
    auto out = markdown_to_telegram_html(in);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
    CAF_MESSAGE(in.size() << " bytes in " << ms << " ms");
    CAF_CHECK(is_balanced_telegram_html(out));
    CAF_CHECK(ms < 2000);
  }
}
