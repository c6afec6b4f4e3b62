#define CAF_SUITE admin.query
#include "caf/test/unit_test.hpp"

#include "admin/query.hpp"

#include "admin/http.hpp"

// Query strings of the store's admin routes: values are percent-decoded,
// bad escapes are refused, and the routes keep their query.

using namespace zaki;

CAF_TEST(query values are found and decoded) {
  CAF_CHECK_EQUAL(query_param("status=running&limit=5", "limit").value_or("?"),
                  "5");
  CAF_CHECK_EQUAL(query_param("file=%2Fsrv%2Fu%20x.json", "file").value_or(""),
                  "/srv/u x.json");
  CAF_CHECK_EQUAL(query_param("a=b+c", "a").value_or(""), "b c");
  CAF_CHECK_EQUAL(query_param("flag&x=1", "flag").value_or("?"), "");
  CAF_CHECK(!query_param("x=1", "y"));
  CAF_CHECK(!query_param("x=%2", "x"));
  CAF_CHECK(!query_param("x=%zz", "x"));
  auto path = std::string{"/tmp/a b&c=d%.json"};
  CAF_CHECK_EQUAL(query_param("f=" + query_encode(path), "f").value_or(""),
                  path);
}

CAF_TEST(store routes match with their methods and keep the query) {
  auto list = match_admin_route("GET", "/admin/users?status=x&limit=2");
  CAF_CHECK(list.endpoint == admin_endpoint::users_list);
  CAF_CHECK(list.method_allowed);
  CAF_CHECK_EQUAL(list.query, "status=x&limit=2");
  auto rm = match_admin_route("DELETE", "/admin/users/42");
  CAF_CHECK(rm.endpoint == admin_endpoint::user_remove);
  CAF_CHECK_EQUAL(rm.user_id, 42);
  auto forget = match_admin_route("DELETE", "/admin/users/42/transcript");
  CAF_CHECK(forget.endpoint == admin_endpoint::user_transcript);
  CAF_CHECK(forget.method_allowed);
  CAF_CHECK(
    !match_admin_route("GET", "/admin/users/42/transcript").method_allowed);
  CAF_CHECK(match_admin_route("POST", "/admin/users/import?file=%2Fx").endpoint
            == admin_endpoint::users_import);
  CAF_CHECK(!match_admin_route("GET", "/admin/users/export").method_allowed);
  // The old routes are unchanged.
  CAF_CHECK(match_admin_route("GET", "/admin/users/42").endpoint
            == admin_endpoint::user);
  CAF_CHECK(match_admin_route("DELETE", "/admin/users/..").bad_user_id);
  CAF_CHECK(endpoint_needs_token(admin_endpoint::users_list));
}
