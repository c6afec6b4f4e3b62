// Who may use the bot: the pure decision behind the access actor (policies,
// admins, users with containers, the bounded pending list) and the parsing
// of the access options.
#define CAF_SUITE access.policy
#include "caf/test/unit_test.hpp"

#include "access/policy.hpp"

using namespace zaki;

namespace {

access_facts stranger(size_t pending = 0, size_t max_pending = 10) {
  access_facts f;
  f.pending = pending;
  f.max_pending = max_pending;
  return f;
}

} // namespace

CAF_TEST(policies parse and print) {
  for (auto name : {"open", "approval", "allowlist", "closed"}) {
    auto p = parse_access_policy(name);
    CAF_REQUIRE(p);
    CAF_CHECK_EQUAL(std::string{to_string(*p)}, name);
  }
  CAF_CHECK(!parse_access_policy("Open"));
  CAF_CHECK(!parse_access_policy(""));
  CAF_CHECK(parse_access_status("revoked") == access_status::revoked);
  CAF_CHECK(parse_access_status("bogus") == access_status::unknown);
}

CAF_TEST(admin ids parse or name the bad item) {
  std::string bad;
  auto ids = parse_admin_ids(" 42, 7 ,100000000001", bad);
  CAF_REQUIRE(ids);
  CAF_CHECK_EQUAL(*ids, (std::vector<int64_t>{42, 7, 100000000001}));
  auto none = parse_admin_ids("", bad);
  CAF_REQUIRE(none);
  CAF_CHECK(none->empty());
  CAF_CHECK(!parse_admin_ids("42,abc", bad));
  CAF_CHECK_EQUAL(bad, "abc");
  CAF_CHECK(!parse_admin_ids("42,,7", bad));
  CAF_CHECK_EQUAL(bad, "");
  CAF_CHECK(!parse_admin_ids("-5", bad));
  CAF_CHECK_EQUAL(bad, "-5");
  CAF_CHECK(!parse_admin_ids("12 34", bad));
  CAF_CHECK(!parse_admin_ids("99999999999999999999", bad));
}

CAF_TEST(a stranger under each policy) {
  CAF_CHECK(decide(access_policy::open, stranger()) == admission::admit);
  CAF_CHECK(decide(access_policy::approval, stranger())
            == admission::ask_admins);
  CAF_CHECK(decide(access_policy::allowlist, stranger())
            == admission::not_allowed);
  CAF_CHECK(decide(access_policy::closed, stranger()) == admission::closed);
}

CAF_TEST(the pending list is bounded) {
  CAF_CHECK(decide(access_policy::approval, stranger(9, 10))
            == admission::ask_admins);
  CAF_CHECK(decide(access_policy::approval, stranger(10, 10))
            == admission::try_later);
  // A user pending already is held, not turned away, when the list is full.
  auto f = stranger(10, 10);
  f.status = access_status::pending;
  CAF_CHECK(decide(access_policy::approval, f) == admission::hold);
  CAF_CHECK(holds(admission::hold) && holds(admission::ask_admins));
  CAF_CHECK(!holds(admission::try_later));
}

CAF_TEST(admins and users with containers are always admitted) {
  for (auto p : {access_policy::approval, access_policy::allowlist,
                 access_policy::closed}) {
    auto admin = stranger(10, 10);
    admin.is_admin = true;
    admin.status = access_status::revoked;
    CAF_CHECK(decide(p, admin) == admission::admit);
    auto registered = stranger();
    registered.has_container = true;
    CAF_CHECK(decide(p, registered) == admission::admit);
  }
}

CAF_TEST(explicit decisions win over a container) {
  auto f = stranger();
  f.has_container = true;
  f.status = access_status::revoked;
  CAF_CHECK(decide(access_policy::approval, f) == admission::revoked);
  f.status = access_status::rejected;
  CAF_CHECK(decide(access_policy::closed, f) == admission::rejected);
  f.has_container = false;
  f.status = access_status::approved;
  CAF_CHECK(decide(access_policy::closed, f) == admission::admit);
  CAF_CHECK(decide(access_policy::allowlist, f) == admission::admit);
}
