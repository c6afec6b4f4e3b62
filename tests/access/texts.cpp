// What users and admins read about access: the approval request, its
// buttons (decodable, signed by a nonce only the access actor knows), the
// decided form, and the command menus.
#define CAF_SUITE access.texts
#include "caf/test/unit_test.hpp"

#include "access/texts.hpp"

#include "chat/callback_data.hpp"
#include "chat/request_id.hpp"

using namespace zaki;

namespace {

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

} // namespace

CAF_TEST(the approval buttons carry the nonce) {
  auto nonce = new_request_id();
  auto kb = approval_keyboard(nonce);
  auto approve = encode_callback(callback_kind::approve, nonce);
  auto reject = encode_callback(callback_kind::reject, nonce);
  CAF_CHECK(contains(kb, approve));
  CAF_CHECK(contains(kb, reject));
  auto a = decode_callback(approve);
  CAF_REQUIRE(a);
  CAF_CHECK(a->kind == callback_kind::approve);
  CAF_CHECK_EQUAL(a->id, nonce);
  auto x = decode_callback(reject);
  CAF_REQUIRE(x);
  CAF_CHECK(x->kind == callback_kind::reject);
  CAF_CHECK(approve.size() <= max_callback_data_size);
  // A malformed nonce gives no action.
  CAF_CHECK(!decode_callback("z1:a:NOT-A-NONCE"));
}

CAF_TEST(a decided request names who and when) {
  auto t = approval_decided_html(9001, "approved", 501, 1796612700);
  CAF_CHECK(contains(t, "approved by"));
  CAF_CHECK(contains(t, "tg://user?id=501"));
  CAF_CHECK(contains(t, "2026-12-07"));
  CAF_CHECK(contains(t, "UTC"));
  auto r = approval_decided_html(9001, "rejected", 0, 0);
  CAF_CHECK(contains(r, "rejected by the operator"));
  CAF_CHECK(contains(approval_request_html(9001), "<code>9001</code>"));
  CAF_CHECK(contains(not_allowed_text(42), "42"));
}

CAF_TEST(only admins get the operator commands in their menu) {
  auto users = bot_commands_json(false);
  auto admins = bot_commands_json(true);
  for (auto cmd : {"help", "reset", "usage", "status"}) {
    CAF_CHECK(contains(users, std::string{"\""} + cmd + "\""));
    CAF_CHECK(contains(admins, std::string{"\""} + cmd + "\""));
  }
  for (auto cmd : {"approve", "reject", "revoke", "users"}) {
    CAF_CHECK(!contains(users, std::string{"\""} + cmd + "\""));
    CAF_CHECK(contains(admins, std::string{"\""} + cmd + "\""));
  }
}
