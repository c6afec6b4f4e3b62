#define CAF_SUITE e2e.chat
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <caf/all.hpp>

#include "actors/user_commands.hpp"
#include "chat/error_render.hpp"
#include "chat/request_id.hpp"
#include "locks/session_lock.hpp"
#include "telegram/html.hpp"
#include "telegram/markdown.hpp"
#include "tests/fixtures/checks.hpp"
#include "tests/fixtures/router_fixture.hpp"

// The chat experience end to end: the real router against the fake Bot API
// and gateway. Each error is produced by a real failure (a lock held by
// another process, a closed port, a slow gateway, both kinds of 401, a
// revoked bot token) and checked as the user receives it: HTML, keyboard,
// request id. Then the buttons: Retry (also after a router restart, and
// pressed twice), Dismiss, forged data, a removed user; the commands; the
// "typing" refresh; Markdown answers, their split and the plain fallback.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

constexpr const char* help_url = "https://help.example.org/e?c={code}&l=en";

uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acc{
    ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acc.local_endpoint().port();
}

/// Returns the request id in "Request: <code>…</code>" of an error.
std::string request_id_of(const std::string& html) {
  static const std::string marker = "Request: <code>";
  auto pos = html.find(marker);
  if (pos == std::string::npos)
    return {};
  auto end = html.find("</code>", pos);
  return html.substr(pos + marker.size(), end - pos - marker.size());
}

/// Waits until `pred` holds, polling; false on timeout.
std::vector<fakes::api_call> answers(router_fixture& f) {
  return f.telegram.calls("answerCallbackQuery");
}

/// Returns the toast of answer `i` (a copy: CAF_CHECK_EQUAL keeps
/// references to its arguments beyond the full expression).
std::string toast(router_fixture& f, size_t i) {
  auto xs = answers(f);
  return i < xs.size() ? xs[i].text : std::string{"<none>"};
}

/// Returns the text of message `i` sent to `chat` (a copy, see above).
std::string text_to(router_fixture& f, int64_t chat, size_t i) {
  auto xs = f.telegram.sent_to(chat);
  return i < xs.size() ? xs[i].text : std::string{"<none>"};
}

std::string str(std::string_view x) {
  return std::string{x};
}

/// Checks that `m` is exactly the catalogue rendering of `code` for `rid`.
void check_error_payload(const fakes::sent_message& m, error_code code,
                         const std::string& rid) {
  render_options opts;
  opts.help_url = help_url;
  auto expected = render_for_telegram(code, rid, opts);
  CAF_CHECK_EQUAL(m.parse_mode, "HTML");
  CAF_CHECK_EQUAL(m.text, expected.text_html);
  CAF_CHECK_EQUAL(m.reply_markup, expected.reply_markup_json);
  CAF_CHECK(is_balanced_telegram_html(m.text));
  CAF_CHECK(
    contains(m.text, "<code>" + std::string{to_string(code)} + "</code>"));
}

void print_payload(const char* what, const fakes::sent_message& m) {
  CAF_MESSAGE(what << "\n  parse_mode: " << m.parse_mode << "\n  text: "
                   << m.text << "\n  reply_markup: " << m.reply_markup);
}

/// A child process that holds a user's session lock until `release`.
class lock_holder {
public:
  lock_holder(const std::string& data_root, int64_t user_id) {
    int up[2];
    int down[2];
    if (::pipe(up) != 0 || ::pipe(down) != 0)
      return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(up[0]);
      ::close(down[1]);
      session_lock_options opts;
      opts.instance = "zr-test-child";
      session_lock lock{data_root, user_id, opts};
      char ok = lock.try_acquire().state == acquire_state::acquired ? 1 : 0;
      if (::write(up[1], &ok, 1) != 1)
        ::_exit(3);
      char c;
      while (::read(down[0], &c, 1) > 0) {
        // wait until the parent closes its end (or dies)
      }
      lock.release();
      ::_exit(0);
    }
    ::close(up[1]);
    ::close(down[0]);
    release_fd_ = down[1];
    char ok = 0;
    acquired_ = ::read(up[0], &ok, 1) == 1 && ok == 1;
    ::close(up[0]);
  }

  ~lock_holder() {
    release();
  }

  bool acquired() const {
    return acquired_;
  }

  void release() {
    if (release_fd_ >= 0) {
      ::close(release_fd_);
      release_fd_ = -1;
    }
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool acquired_ = false;
};

void common_settings(router_fixture& f) {
  f.cfg().errors.help_url = help_url;
  f.cfg().gateway.attempts = 2;
}

/// A stand-in provisioner that serves users from a map and counts
/// restarts; registered under the real name so the user actors find it.
struct fake_provisioner_state {
  static inline const char* name = "fake_provisioner";
};

struct provisioner_log {
  std::mutex mtx;
  std::map<int64_t, user_record> users;
  std::vector<int64_t> ensures;
  std::vector<int64_t> restarts;
};

provisioner_actor::behavior_type
fake_provisioner(provisioner_actor::stateful_pointer<fake_provisioner_state>,
                 std::shared_ptr<provisioner_log> log) {
  return {
    [log](ensure_atom, int64_t id) -> caf::result<user_record> {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->ensures.push_back(id);
      auto i = log->users.find(id);
      if (i == log->users.end())
        return make_error(errc::capacity_exhausted, "full");
      return i->second;
    },
    [log](restart_atom, int64_t id) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->restarts.push_back(id);
      return true;
    },
    [](stop_atom, int64_t) {
      return true;
    },
    [](remove_atom, int64_t) {
      return true;
    },
    [](status_atom) {
      return status_node{};
    },
  };
}

} // namespace

// -- pure parts used by the actors ---------------------------------------------

CAF_TEST(commands are recognised and others go to the assistant) {
  CAF_CHECK(parse_user_command("/start") == user_command::start);
  CAF_CHECK(parse_user_command("/Start@ZakiBot payload")
            == user_command::start);
  CAF_CHECK(parse_user_command("/help") == user_command::help);
  CAF_CHECK(parse_user_command("/status now") == user_command::status);
  CAF_CHECK(parse_user_command("/restart") == user_command::restart);
  CAF_CHECK(parse_user_command("/new") == user_command::none);
  CAF_CHECK(parse_user_command("start") == user_command::none);
  CAF_CHECK(parse_user_command("") == user_command::none);
  CAF_CHECK(parse_user_command("/") == user_command::none);
  CAF_CHECK_EQUAL(format_uptime(seconds(42)), "42 s");
  CAF_CHECK_EQUAL(format_uptime(seconds(3725)), "1 h 2 min");
  CAF_CHECK_EQUAL(settings{}.user.typing_interval, seconds(4));
  CAF_CHECK_EQUAL(settings{}.errors.retry_window, hours(24));
}

CAF_TEST(long markdown is split first and every chunk is safe) {
  std::string md = "# Title\n\nIntro with <tags> & **bold**.\n\n```python\n";
  for (int i = 0; i < 400; ++i)
    md += "print('line " + std::to_string(i) + " <x> & y')\n";
  md += "```\n\nAfter the **code** _block_.";
  auto chunks = markdown_to_telegram_chunks(md);
  CAF_REQUIRE_GREATER_OR_EQUAL(chunks.size(), 3u);
  for (size_t i = 0; i < chunks.size(); ++i) {
    CAF_CHECK(chunks[i].html);
    CAF_CHECK(is_balanced_telegram_html(chunks[i].text));
    CAF_CHECK(html_fits(chunks[i].text));
    CAF_CHECK_LESS_OR_EQUAL(utf16_length(chunks[i].text), 4096u);
    CAF_CHECK_LESS_OR_EQUAL(utf16_length(chunks[i].plain), 4096u);
    if (i > 0 && i + 1 < chunks.size())
      CAF_CHECK(
        contains(chunks[i].text, "<pre><code class=\"language-python\">"));
  }
  CAF_CHECK(contains(chunks.front().text, "&lt;tags&gt; &amp; <b>bold</b>"));
  CAF_CHECK(contains(chunks.back().text, "<b>code</b> <i>block</i>"));
  // Broken Markdown stays literal and escaped; blank answers give nothing.
  auto broken = markdown_to_telegram_chunks("**open _and `tick <b> & [x](");
  CAF_REQUIRE_EQUAL(broken.size(), 1u);
  CAF_CHECK(is_balanced_telegram_html(broken[0].text));
  CAF_CHECK(contains(broken[0].text, "&lt;b&gt; &amp;"));
  CAF_CHECK(markdown_to_telegram_chunks(" \n\n ").empty());
}

// -- errors from real failures ---------------------------------------------------

CAF_TEST(a session lock held by another process yields the lock error) {
#if defined(__SANITIZE_ADDRESS__)
  // The lock holder is a fork()ed child that allocates; under
  // AddressSanitizer a fork taken while another thread held the
  // sanitizer's allocator lock deadlocks the child (seen once in the
  // sanitizer pass). The normal build runs this test.
  CAF_MESSAGE("not run under AddressSanitizer (fork without exec)");
  return;
#endif
  router_fixture f;
  common_settings(f);
  f.cfg().lock.timeout = milliseconds(800);
  f.add_user(7001);
  lock_holder child{f.cfg().store.data_root, 7001};
  CAF_REQUIRE(child.acquired());
  f.start();
  f.telegram.push_text(7001, "u7001-m1 while locked");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  auto err = f.telegram.sent_to(7001).at(0);
  auto rid = request_id_of(err.text);
  CAF_REQUIRE(is_valid_request_id(rid));
  check_error_payload(err, error_code::session_lock_timeout, rid);
  print_payload("ZR-SESSION-LOCK-TIMEOUT as sent", err);
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 0u);
  // The other process lets go; Retry sends the original text once.
  child.release();
  f.telegram.push_callback(7001, "z1:r:" + rid, err.message_id);
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 2, seconds(10)));
  CAF_CHECK_EQUAL(text_to(f, 7001, 1), "echo: u7001-m1 while locked");
  CAF_REQUIRE(eventually([&] {
    return answers(f).size() == 1;
  }));
  CAF_CHECK_EQUAL(toast(f, 0), str(toast_text(callback_reply::retrying)));
  // A second press re-sends nothing.
  f.telegram.push_callback(7001, "z1:r:" + rid, err.message_id);
  CAF_REQUIRE(eventually([&] {
    return answers(f).size() == 2;
  }));
  CAF_CHECK_EQUAL(toast(f, 1),
                  str(toast_text(callback_reply::retry_already_sent)));
  std::this_thread::sleep_for(milliseconds(200));
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 1u);
  CAF_CHECK_EQUAL(f.telegram.sent_to(7001).size(), 2u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a container that is down yields the exact error payload) {
  router_fixture f;
  common_settings(f);
  f.cfg().log.file = f.dir() + "/router.log";
  f.add_user(7002, closed_port(), "gw-secret-7002");
  f.start();
  f.telegram.push_text(7002, "hello <there> & bye");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7002, 1, seconds(10)));
  auto err = f.telegram.sent_to(7002).at(0);
  auto rid = request_id_of(err.text);
  CAF_REQUIRE(is_valid_request_id(rid));
  print_payload("ZR-CONTAINER-DOWN as sent", err);
  // Spelled out once, byte for byte, as the user's client receives it.
  CAF_CHECK_EQUAL(err.text,
                  "\xF0\x9F\x92\xA4 <b>Your assistant is not running</b>\n\n"
                  "It has stopped, so your message could not be delivered."
                  "\n\nPress Retry in a minute. If it still fails, send "
                  "/restart.\n\nError code: <code>ZR-CONTAINER-DOWN</code>"
                  " \xC2\xB7 Request: <code>"
                    + rid + "</code>");
  CAF_CHECK_EQUAL(err.reply_markup,
                  "{\"inline_keyboard\":[[{\"text\":\"\xF0\x9F\x94\x84 "
                  "Retry\",\"callback_data\":\"z1:r:"
                    + rid
                    + "\"},{\"text\":\"\xE2\x9D\x93 Help\",\"url\":\"https:"
                      "//help.example.org/e?c=ZR-CONTAINER-DOWN&l=en\"},{"
                      "\"text\":\"\xE2\x9C\x96\xEF\xB8\x8F Dismiss\","
                      "\"callback_data\":\"z1:d:"
                    + rid + "\"}]]}");
  // Dismiss deletes the error message and says so.
  f.telegram.push_callback(7002, "z1:d:" + rid, err.message_id);
  CAF_REQUIRE(eventually([&] {
    return answers(f).size() == 1;
  }));
  CAF_CHECK_EQUAL(toast(f, 0), str(toast_text(callback_reply::dismissed)));
  auto deletes = f.telegram.calls("deleteMessage");
  CAF_REQUIRE_EQUAL(deletes.size(), 1u);
  CAF_CHECK_EQUAL(deletes[0].message_id, err.message_id);
  CAF_CHECK_EQUAL(f.stop(), 0);
  // One grep for the request id finds the whole story, including the
  // JSON rendering of the error.
  auto log = f.read_log();
  size_t lines = 0;
  for (size_t pos = 0;
       (pos = log.find("request_id=" + rid, pos)) != std::string::npos; ++pos)
    ++lines;
  CAF_CHECK_GREATER_OR_EQUAL(lines, 3u);
  CAF_CHECK(contains(log, "event=error_sent"));
  CAF_CHECK(contains(log, "\\\"code\\\":\\\"ZR-CONTAINER-DOWN\\\""));
}

CAF_TEST(a gateway slower than the deadline yields the timeout error) {
  router_fixture f;
  common_settings(f);
  f.cfg().gateway.timeout = milliseconds(400);
  f.cfg().gateway.attempts = 1;
  f.add_user(7003);
  f.start();
  f.telegram.push_text(7003, "gw:sleep=3000 think hard");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7003, 1, seconds(10)));
  auto err = f.telegram.sent_to(7003).at(0);
  check_error_payload(err, error_code::gateway_timeout,
                      request_id_of(err.text));
  print_payload("ZR-GATEWAY-TIMEOUT as sent", err);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(both kinds of 401 are told apart) {
  router_fixture f;
  common_settings(f);
  f.add_user(7004);
  // The gateway expects another token than users.json has for 7005.
  f.gateway.behavior().set_user_token("7005", "the-right-one");
  f.add_user(7005, f.gateway.port(), "a-stale-token");
  f.start();
  f.telegram.push_text(7004, "gw:fail=401 hi");
  f.telegram.push_text(7005, "hi");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7004, 1, seconds(10)));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7005, 1, seconds(10)));
  auto provider = f.telegram.sent_to(7004).at(0);
  auto router = f.telegram.sent_to(7005).at(0);
  check_error_payload(provider, error_code::provider_auth_failed,
                      request_id_of(provider.text));
  check_error_payload(router, error_code::gateway_unauthorized,
                      request_id_of(router.text));
  print_payload("ZR-PROVIDER-AUTH as sent", provider);
  print_payload("ZR-GATEWAY-UNAUTHORIZED as sent", router);
  // Neither offers a Retry that cannot help; a 401 is not retried.
  CAF_CHECK(!contains(provider.reply_markup, "z1:r:"));
  CAF_CHECK(!contains(router.reply_markup, "z1:r:"));
  CAF_CHECK(contains(router.reply_markup, "z1:d:"));
  CAF_CHECK_EQUAL(f.gateway.stats().unauthorized, 1u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a revoked bot token stops the router with exit code 2) {
  router_fixture f;
  f.cfg().log.file = f.dir() + "/router.log";
  f.telegram.set_unauthorized(true);
  f.start();
  CAF_REQUIRE(f.wait_for_exit(seconds(10)));
  CAF_CHECK_EQUAL(f.stop(), 2);
  auto log = f.read_log();
  CAF_CHECK(contains(log, "event=bot_token_invalid"));
  CAF_CHECK(contains(log, "code=ZR-BOT-TOKEN"));
  CAF_CHECK(!contains(log, router_fixture::bot_token));
  // Operator-only: nothing is sent to any chat.
  CAF_CHECK_EQUAL(f.telegram.sent_count(), 0u);
}

// -- buttons ---------------------------------------------------------------------

CAF_TEST(retry works after a router restart within the window) {
  router_fixture first;
  common_settings(first);
  first.add_user(7006, closed_port(), "gw-secret-7006");
  first.start();
  first.telegram.push_text(7006, "u7006-m1 remember me");
  CAF_REQUIRE(first.telegram.wait_for_sent_to(7006, 1, seconds(10)));
  auto err = first.telegram.sent_to(7006).at(0);
  auto rid = request_id_of(err.text);
  CAF_REQUIRE(is_valid_request_id(rid));
  CAF_CHECK_EQUAL(first.stop(), 0);
  // A new router on the same data root; the assistant is back.
  router_fixture second;
  common_settings(second);
  second.cfg().store.data_root = first.cfg().store.data_root;
  second.add_user(7006);
  second.start();
  second.telegram.push_callback(7006, "z1:r:" + rid, err.message_id);
  CAF_REQUIRE(second.telegram.wait_for_sent_to(7006, 1, seconds(10)));
  CAF_CHECK_EQUAL(text_to(second, 7006, 0), "echo: u7006-m1 remember me");
  CAF_REQUIRE(eventually([&] {
    return answers(second).size() == 1;
  }));
  CAF_CHECK_EQUAL(toast(second, 0), str(toast_text(callback_reply::retrying)));
  CAF_CHECK_EQUAL(second.gateway.stats().chat_requests, 1u);
  CAF_CHECK_EQUAL(second.stop(), 0);
}

CAF_TEST(forged foreign stale and removed user presses get a polite toast) {
  router_fixture f;
  common_settings(f);
  f.add_user(7007, closed_port(), "gw-secret-7007");
  f.add_user(7008);
  f.start();
  f.telegram.push_text(7007, "u7007-m1 original");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7007, 1, seconds(10)));
  auto err = f.telegram.sent_to(7007).at(0);
  auto rid = request_id_of(err.text);
  std::vector<std::string> forged{
    "",                             // nothing at all
    "garbage",                      // another bot's data
    "z0:r:" + rid,                  // an older format
    "z1:x:" + rid,                  // an unknown action
    "z1:r:../../../etc/passwd",     // a path in the id
    "z1:r:" + std::string(80, 'a'), // oversized
    "z1:r:zzzzzzzzzzzz",            // well-formed, unknown
    "z1:rs:" + rid,                 // a restart nobody asked for
    "<b>&amp;</b>\"'",              // markup and quotes
  };
  for (auto& data : forged)
    f.telegram.push_callback(7007, data, err.message_id);
  // Another user presses 7007's Retry: their own records know no such id.
  f.telegram.push_callback(7008, "z1:r:" + rid, err.message_id);
  auto expected = forged.size() + 1;
  CAF_REQUIRE(eventually([&] {
    return answers(f).size() == expected;
  }));
  for (auto& a : answers(f)) {
    CAF_CHECK(a.text == toast_text(callback_reply::unknown_button)
              || a.text == toast_text(callback_reply::retry_expired)
              || a.text == str(toast_text(callback_reply::restart_expired)));
  }
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 0u);
  CAF_CHECK_EQUAL(f.telegram.sent_count(), 1u);
  // The user is removed; the Retry is declined politely, nothing is sent.
  auto store = f.system().registry().get<store_actor>(names::store);
  CAF_REQUIRE(store != nullptr);
  bool removed = false;
  {
    // Scoped: a blocking actor alive at stop() would hold the system up.
    caf::scoped_actor self{f.system()};
    self->request(store, seconds(5), remove_atom_v, int64_t{7007})
      .receive(
        [&](bool ok) {
          removed = ok;
        },
        [](caf::error&) {});
  }
  CAF_REQUIRE(removed);
  f.telegram.push_callback(7007, "z1:r:" + rid, err.message_id);
  CAF_REQUIRE(eventually([&] {
    return answers(f).size() == expected + 1;
  }));
  CAF_CHECK_EQUAL(toast(f, expected),
                  str(toast_text(callback_reply::retry_expired)));
  std::this_thread::sleep_for(milliseconds(200));
  CAF_CHECK_EQUAL(f.telegram.sent_count(), 1u);
  // And the router still serves everybody else.
  f.telegram.push_text(7008, "u7008-m1");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7008, 1, seconds(10)));
  CAF_CHECK_EQUAL(text_to(f, 7008, 0), "echo: u7008-m1");
  CAF_CHECK_EQUAL(f.stop(), 0);
}

// -- the chat experience -------------------------------------------------------

CAF_TEST(typing is refreshed while the gateway works) {
  router_fixture f;
  f.cfg().user.typing_interval = milliseconds(500);
  f.cfg().user.typing_delay = milliseconds(0);
  f.add_user(7009);
  f.start();
  f.telegram.push_text(7009, "gw:sleep=1800 slow");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7009, 1, seconds(10)));
  auto answered = f.telegram.sent_to(7009).at(0).at;
  std::this_thread::sleep_for(milliseconds(1200));
  auto typing = f.telegram.calls("sendChatAction");
  // At 0, 0.5, 1.0 and 1.5 s; none once the answer is out.
  CAF_CHECK_GREATER_OR_EQUAL(typing.size(), 4u);
  CAF_CHECK_LESS_OR_EQUAL(typing.size(), 5u);
  for (size_t i = 0; i < typing.size(); ++i) {
    CAF_CHECK_EQUAL(typing[i].data, "typing");
    CAF_CHECK_EQUAL(typing[i].chat_id, 7009);
    CAF_CHECK_LESS(typing[i].at, answered);
    if (i > 0) {
      auto gap = duration_cast<milliseconds>(typing[i].at - typing[i - 1].at);
      CAF_CHECK_GREATER_OR_EQUAL(gap.count(), 400);
      CAF_CHECK_LESS_OR_EQUAL(gap.count(), 1500); // a loaded CI machine
    }
  }
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(markdown answers become html with a plain resend on rejection) {
  router_fixture f;
  f.add_user(7010);
  f.start();
  f.telegram.push_text(7010,
                       "**bold** _it_ `x<y` a<b && c>d [l](https://e.org)");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7010, 1, seconds(10)));
  auto got = f.telegram.sent_to(7010).at(0);
  CAF_CHECK_EQUAL(got.parse_mode, "HTML");
  CAF_CHECK_EQUAL(got.text,
                  "echo: <b>bold</b> <i>it</i> <code>x&lt;y</code> "
                  "a&lt;b &amp;&amp; c&gt;d "
                  "<a href=\"https://e.org\">l</a>");
  // Broken Markdown stays literal and still passes Telegram's parser.
  f.telegram.push_text(7010, "**never closed _nor this `tick <i>");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7010, 2, seconds(10)));
  got = f.telegram.sent_to(7010).at(1);
  CAF_CHECK_EQUAL(got.parse_mode, "HTML");
  CAF_CHECK(contains(got.text, "&lt;i&gt;"));
  // Telegram refuses the entities: the Markdown goes out as plain text.
  f.telegram.set_parse_entities_error(true);
  f.telegram.push_text(7010, "**bold** & <more>");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7010, 3, seconds(10)));
  got = f.telegram.sent_to(7010).at(2);
  CAF_CHECK_EQUAL(got.parse_mode, "");
  CAF_CHECK_EQUAL(got.text, "echo: **bold** & <more>");
  // An error card falls back to its plain rendering and keeps its buttons.
  f.telegram.push_text(7010, "gw:fail=500 boom");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7010, 4, seconds(10)));
  got = f.telegram.sent_to(7010).at(3);
  CAF_CHECK_EQUAL(got.parse_mode, "");
  CAF_CHECK(contains(got.text, "Error code: ZR-GATEWAY-ERROR"));
  CAF_CHECK(contains(got.reply_markup, "z1:r:"));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(long answers are split into chunks that each fit) {
  router_fixture f;
  f.add_user(7011);
  f.start();
  std::string text = "Here:\n\n```cpp\n";
  for (int i = 0; i < 500; ++i)
    text += "int v" + std::to_string(i) + " = a < b && c > d;\n";
  text += "```\nDone.";
  f.telegram.push_text(7011, text);
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7011, 4, seconds(15)));
  std::this_thread::sleep_for(milliseconds(200));
  auto got = f.telegram.sent_to(7011);
  CAF_CHECK_EQUAL(got.size(),
                  markdown_to_telegram_chunks("echo: " + text).size());
  for (auto& m : got) {
    CAF_CHECK_EQUAL(m.parse_mode, "HTML");
    CAF_CHECK(is_balanced_telegram_html(m.text));
    CAF_CHECK(html_fits(m.text));
    CAF_CHECK_LESS_OR_EQUAL(utf16_length(m.text), 4096u);
    CAF_CHECK(contains(m.text, "<pre><code class=\"language-cpp\">"));
  }
  CAF_CHECK(contains(got.back().text, "Done."));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(start help status and restart on a static backend) {
  router_fixture f;
  f.add_user(7012);
  f.start();
  f.telegram.push_text(7012, "/start");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7012, 2, seconds(10)));
  f.telegram.push_text(7012, "/help");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7012, 3, seconds(10)));
  f.telegram.push_text(7012, "/status");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7012, 4, seconds(10)));
  f.telegram.push_text(7012, "/restart");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7012, 5, seconds(10)));
  auto got = f.telegram.sent_to(7012);
  CAF_CHECK(contains(got[0].text, "Welcome"));
  CAF_CHECK(contains(got[1].text, "ready"));
  CAF_CHECK(contains(got[2].text, "/restart"));
  CAF_CHECK(
    contains(got[3].text, "port <code>" + std::to_string(f.gateway.port())));
  CAF_CHECK(contains(got[3].text, "Waiting messages: 0"));
  CAF_CHECK(contains(got[4].text, "nothing I can restart"));
  CAF_CHECK(got[4].reply_markup.empty());
  for (auto& m : got)
    if (m.parse_mode == "HTML")
      CAF_CHECK(is_balanced_telegram_html(m.text));
  // None of it reached the assistant.
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 0u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(restart asks first and goes through the provisioner) {
  router_fixture f;
  f.add_user(7013);
  f.start();
  auto log = std::make_shared<provisioner_log>();
  {
    user_record rec;
    rec.user_id = 7013;
    rec.port = f.gateway.port();
    rec.token = "gw-secret-7013";
    rec.container = "zaki-user-7013";
    log->users[7013] = rec;
  }
  auto prov = f.system().spawn(fake_provisioner, log);
  f.system().registry().put(names::provisioner, prov);
  f.telegram.push_text(7013, "/restart");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7013, 1, seconds(10)));
  auto ask = f.telegram.sent_to(7013).at(0);
  print_payload("/restart confirmation as sent", ask);
  auto pos = ask.reply_markup.find("z1:rs:");
  CAF_REQUIRE(pos != std::string::npos);
  auto nonce = ask.reply_markup.substr(pos + 6, request_id_length);
  // A forged nonce does nothing; the right one restarts once.
  f.telegram.push_callback(7013, "z1:rs:zzzzzzzzzzzz", ask.message_id);
  f.telegram.push_callback(7013, "z1:rs:" + nonce, ask.message_id);
  f.telegram.push_callback(7013, "z1:rs:" + nonce, ask.message_id);
  CAF_REQUIRE(eventually([&] {
    return answers(f).size() == 3;
  }));
  // Answers travel on parallel connections: count them, not their order.
  size_t started = 0;
  size_t expired = 0;
  for (auto& a : answers(f)) {
    started += a.text == toast_text(callback_reply::restart_started) ? 1 : 0;
    expired += a.text == toast_text(callback_reply::restart_expired) ? 1 : 0;
  }
  CAF_CHECK_EQUAL(started, 1u);
  CAF_CHECK_EQUAL(expired, 2u);
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7013, 2, seconds(10)));
  CAF_CHECK(contains(text_to(f, 7013, 1), "restarted"));
  {
    std::lock_guard<std::mutex> guard{log->mtx};
    CAF_CHECK_EQUAL(log->restarts, std::vector<int64_t>{7013});
  }
  CAF_REQUIRE(eventually([&] {
    return f.telegram.calls("deleteMessage").size() == 1;
  }));
  // /start provisions through the provisioner; a full backend is explained.
  f.telegram.push_text(7013, "/start");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7013, 4, seconds(10)));
  CAF_CHECK(contains(text_to(f, 7013, 3), "ready"));
  f.telegram.push_text(7014, "/start");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7014, 2, seconds(10)));
  auto full = f.telegram.sent_to(7014).at(1);
  CAF_CHECK(contains(full.text, "<code>ZR-CAPACITY-EXHAUSTED</code>"));
  {
    std::lock_guard<std::mutex> guard{log->mtx};
    CAF_CHECK_EQUAL(log->ensures, (std::vector<int64_t>{7013, 7014}));
  }
  f.system().registry().erase(names::provisioner);
  caf::anon_send_exit(prov, caf::exit_reason::user_shutdown);
  CAF_CHECK_EQUAL(f.stop(), 0);
}
