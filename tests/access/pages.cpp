#define CAF_SUITE access.pages
#include "caf/test/unit_test.hpp"

#include "access/pages.hpp"
#include "chat/callback_data.hpp"

using namespace zaki;

namespace {

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

access_list users(int64_t n) {
  access_list list;
  for (int64_t i = 0; i < n; ++i) {
    access_record rec;
    rec.user_id = 1000 + i;
    rec.status = "approved";
    list.push_back(rec);
  }
  return list;
}

} // namespace

CAF_TEST(page counts round up and never go below one) {
  CAF_CHECK_EQUAL(page_count(0), 1u);
  CAF_CHECK_EQUAL(page_count(20), 1u);
  CAF_CHECK_EQUAL(page_count(21), 2u);
  CAF_CHECK_EQUAL(page_count(45, 20), 3u);
  CAF_CHECK_EQUAL(page_count(5, 0), 1u);
}

CAF_TEST(a users page shows its rows and where it is) {
  auto list = users(45);
  auto first = users_page_html(list, "approved", 0);
  CAF_CHECK(contains(first, "Users (approved)</b>: 45"));
  CAF_CHECK(contains(first, "<code>1000</code> approved"));
  CAF_CHECK(contains(first, "<code>1019</code>"));
  CAF_CHECK(!contains(first, "<code>1020</code>"));
  CAF_CHECK(contains(first, "Page 1 of 3"));
  // A page beyond the end shows the last one.
  auto last = users_page_html(list, "approved", 99);
  CAF_CHECK(contains(last, "<code>1044</code>"));
  CAF_CHECK(contains(last, "Page 3 of 3"));
  // One page: no page line; the filter is escaped HTML.
  auto small = users_page_html(users(2), "<b>", 0);
  CAF_CHECK(!contains(small, "Page"));
  CAF_CHECK(contains(small, "(&lt;b&gt;)"));
}

CAF_TEST(a containers page shows state restarts and the memory limit) {
  std::vector<container_row> rows;
  container_row row;
  row.user_id = 7;
  row.container = "zaki-user-7";
  row.state = "running";
  row.restarts = 2;
  row.port = 20007;
  rows.push_back(row);
  auto html = containers_page_html(rows, 2048, 0);
  CAF_CHECK(contains(html, "Containers</b>: 1"));
  CAF_CHECK(contains(html, "memory limit 2048 MiB each"));
  CAF_CHECK(contains(html, "<code>7</code> running"));
  CAF_CHECK(contains(html, "restarts 2"));
  CAF_CHECK(contains(html, "port 20007"));
  CAF_CHECK(contains(containers_page_html({}, 0, 0), "Containers</b>: 0"));
}

CAF_TEST(page keyboards carry page callbacks) {
  CAF_CHECK(page_keyboard("", "").empty());
  auto both = page_keyboard("aaaaaaaaaaaa", "bbbbbbbbbbbb");
  CAF_CHECK(contains(both, "\\u00ab Prev") || contains(both, "\xC2\xAB Prev"));
  CAF_CHECK(contains(both, R"("callback_data":"z1:p:aaaaaaaaaaaa")"));
  CAF_CHECK(contains(both, R"("callback_data":"z1:p:bbbbbbbbbbbb")"));
  auto next_only = page_keyboard("", "bbbbbbbbbbbb");
  CAF_CHECK(!contains(next_only, "Prev"));
  auto action = decode_callback("z1:p:bbbbbbbbbbbb");
  CAF_REQUIRE(action);
  CAF_CHECK(action->kind == callback_kind::page);
  CAF_CHECK_EQUAL(encode_callback(*action), "z1:p:bbbbbbbbbbbb");
}
