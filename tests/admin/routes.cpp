#define CAF_SUITE admin.routes

#include "caf/test/unit_test.hpp"

#include "admin/checks.hpp"
#include "admin/http.hpp"
#include "app/admin_cli.hpp"
#include "messages/status_detail.hpp"
#include "runtime/metrics.hpp"
#include "runtime/process_stats.hpp"
#include "runtime/settings.hpp"
#include "tests/fixtures/prometheus_check.hpp"

using namespace zaki;

CAF_TEST(routes match exact paths and methods) {
  auto r = match_admin_route("GET", "/health/live");
  CAF_CHECK(r.endpoint == admin_endpoint::health_live);
  CAF_CHECK(r.method_allowed);
  r = match_admin_route("GET", "/metrics?x=1");
  CAF_CHECK(r.endpoint == admin_endpoint::metrics);
  r = match_admin_route("POST", "/admin/tree");
  CAF_CHECK(r.endpoint == admin_endpoint::tree);
  CAF_CHECK(!r.method_allowed);
  CAF_CHECK_EQUAL(std::string{r.allow}, "GET");
  r = match_admin_route("GET", "/admin/locks/clean");
  CAF_CHECK(!r.method_allowed);
  CAF_CHECK_EQUAL(std::string{r.allow}, "POST");
  CAF_CHECK(match_admin_route("GET", "/admin/tree/").endpoint
            == admin_endpoint::unknown);
  CAF_CHECK(match_admin_route("GET", "/health/../admin/tree").endpoint
            == admin_endpoint::unknown);
  CAF_CHECK(match_admin_route("GET", "").endpoint == admin_endpoint::unknown);
}

CAF_TEST(user routes accept positive decimal ids only) {
  auto r = match_admin_route("GET", "/admin/users/123456");
  CAF_CHECK(r.endpoint == admin_endpoint::user);
  CAF_CHECK_EQUAL(r.user_id, 123456);
  CAF_CHECK(!r.bad_user_id);
  r = match_admin_route("POST", "/admin/users/5000000001/restart");
  CAF_CHECK(r.endpoint == admin_endpoint::user_restart);
  CAF_CHECK_EQUAL(r.user_id, 5000000001);
  r = match_admin_route("POST", "/admin/users/42/stop");
  CAF_CHECK(r.endpoint == admin_endpoint::user_stop);
  for (auto bad : {"/admin/users/..%2f..", "/admin/users/../../etc/passwd",
                   "/admin/users/-1", "/admin/users/0", "/admin/users/+7",
                   "/admin/users/12a", "/admin/users/", "/admin/users/1/x",
                   "/admin/users/9999999999999999999", "/admin/users/%31%32"}) {
    auto x = match_admin_route("GET", bad);
    CAF_CHECK(x.bad_user_id);
    CAF_CHECK_EQUAL(x.user_id, 0);
  }
}

CAF_TEST(the token is needed for admin and metrics but not probes) {
  CAF_CHECK(endpoint_needs_token(admin_endpoint::tree));
  CAF_CHECK(endpoint_needs_token(admin_endpoint::metrics));
  CAF_CHECK(endpoint_needs_token(admin_endpoint::locks_clean));
  CAF_CHECK(!endpoint_needs_token(admin_endpoint::health_live));
  CAF_CHECK(!endpoint_needs_token(admin_endpoint::health));
}

CAF_TEST(bearer tokens compare exactly) {
  std::string token = "s3cret-token";
  CAF_CHECK(bearer_token_matches("Bearer s3cret-token", token));
  CAF_CHECK(bearer_token_matches("bearer  s3cret-token ", token));
  CAF_CHECK(!bearer_token_matches("Bearer s3cret-tokeN", token));
  CAF_CHECK(!bearer_token_matches("Bearer s3cret-token2", token));
  CAF_CHECK(!bearer_token_matches("Bearer ", token));
  CAF_CHECK(!bearer_token_matches("Basic s3cret-token", token));
  CAF_CHECK(!bearer_token_matches("s3cret-token", token));
  CAF_CHECK(!bearer_token_matches("Bearer ", ""));
}

CAF_TEST(the access policy refuses an exposed server without a token) {
  settings s;
  s.admin.address = "127.0.0.1:8080";
  auto a = admin_access_policy(s, "");
  CAF_CHECK(a.problem.empty());
  CAF_CHECK(!a.require_token);
  s.admin.address = "localhost:0";
  a = admin_access_policy(s, "");
  CAF_CHECK_EQUAL(a.host, "127.0.0.1");
  CAF_CHECK(a.problem.empty());
  s.admin.address = "0.0.0.0:8080";
  a = admin_access_policy(s, "");
  CAF_CHECK(a.require_token);
  CAF_CHECK(!a.problem.empty());
  CAF_CHECK(a.problem.find("ZAKI_ADMIN_TOKEN") != std::string::npos);
  a = admin_access_policy(s, "tok");
  CAF_CHECK(a.require_token);
  CAF_CHECK(a.problem.empty());
  // The problem text never contains the token.
  s.admin.address = "[::]:8080";
  a = admin_access_policy(s, "");
  CAF_CHECK(a.require_token);
  s.admin.address = "nonsense";
  CAF_CHECK(!admin_access_policy(s, "").problem.empty());
}

CAF_TEST(status JSON merges detail fields) {
  status_node root;
  root.name = "root";
  root.id = 1;
  root.state = "running";
  status_node sup;
  sup.name = "user_supervisor";
  sup.state = "running";
  sup.restarts = 2;
  status_detail d;
  d.begin_object().field("users", 3).field("restarts", 7);
  d.key("nested").begin_object().key("a").begin_array();
  d.value(1).value(2).end_array().end_object();
  sup.detail = d.end_object().take();
  root.children.push_back(sup);
  auto json = status_to_json(root);
  CAF_CHECK(json.find(R"("users":3)") != std::string::npos);
  CAF_CHECK(json.find(R"("restarts":2)") != std::string::npos);
  CAF_CHECK(json.find(R"("detail_restarts":7)") != std::string::npos);
  CAF_CHECK(json.find(R"("nested":{"a":[1,2]})") != std::string::npos);
  std::string text;
  std::string error;
  CAF_REQUIRE(render_tree_text(json, false, text, error));
  CAF_CHECK_EQUAL(text,
                  "root  running\n"
                  "└── user_supervisor  running restarts=2 detail_restarts=7 "
                  "users=3\n");
  CAF_CHECK(!render_tree_text("[1]", false, text, error));
}

CAF_TEST(status detail values keep their types up to the JSON) {
  status_detail d;
  d.begin_object().key("in_flight").null().field("ratio", 0.5);
  d.field("name", "x").field("big", uint64_t{1} << 40).field("ok", true);
  d.key("rows").begin_array().begin_object().field("user", 7).end_object();
  d.begin_object().field("user", 8).end_object().end_array();
  status_node node;
  node.name = "poller";
  node.detail = d.end_object().take();
  CAF_CHECK(is_null(*detail_member(node.detail, "in_flight")));
  CAF_CHECK_EQUAL(detail_int(node.detail, "big"), int64_t{1} << 40);
  CAF_CHECK_EQUAL(detail_int(node.detail, "ratio", -1), -1);
  CAF_CHECK(detail_bool(node.detail, "ok"));
  CAF_CHECK_EQUAL(detail_string(node.detail, "name"), "x");
  auto rows = detail_list(node.detail, "rows");
  CAF_REQUIRE(rows != nullptr);
  CAF_REQUIRE_EQUAL(rows->size(), 2u);
  CAF_CHECK_EQUAL(detail_int(*as_object(rows->back()), "user"), 8);
  CAF_CHECK_EQUAL(detail_to_json(node.detail),
                  R"({"big":1099511627776,"in_flight":null,"name":"x",)"
                  R"("ok":true,"ratio":0.5,"rows":[{"user":7},{"user":8}]})");
  auto json = status_to_json(node, false);
  CAF_CHECK(json.find(R"("name":"poller")") != std::string::npos);
  CAF_CHECK(json.find(R"("detail_name":"x")") != std::string::npos);
  CAF_CHECK(json.find(R"("in_flight":null)") != std::string::npos);
}

CAF_TEST(judges read the actors details) {
  status_node poller;
  poller.name = "poller";
  poller.state = "backoff";
  auto detail =
    [](
      std::initializer_list<std::pair<const char*, caf::config_value>> fields) {
      caf::settings d;
      for (auto& [key, value] : fields)
        d[key] = value;
      return d;
    };
  poller.detail = detail({{"healthy", caf::config_value{false}},
                          {"last_error", caf::config_value{"500 boom"}}});
  auto r = judge_poller(poller);
  CAF_CHECK(!r.ok);
  CAF_CHECK(r.detail.find("500 boom") != std::string::npos);
  poller.state = "polling";
  poller.detail = detail({{"healthy", caf::config_value{false}}});
  CAF_CHECK(judge_poller(poller).ok);
  poller.detail = detail({{"healthy", caf::config_value{true}}});
  CAF_CHECK(judge_poller(poller).ok);
  status_node prov;
  prov.state = "running";
  prov.detail = detail({{"reachable", caf::config_value{false}},
                        {"last_error", caf::config_value{"no socket"}}});
  CAF_CHECK(!judge_backend(prov).ok);
  prov.detail = {};
  CAF_CHECK(judge_backend(prov).ok);
  prov.state = "failed";
  CAF_CHECK(!judge_backend(prov).ok);
}

CAF_TEST(the registry renders valid exposition text) {
  metrics_registry reg;
  auto& c = reg.get_counter("t_requests_total", "Requests.\nSecond line");
  c.inc();
  c.inc(4);
  reg.counters("t_errors_total", "Errors.", {"code"})
    .with({"ZR-\"X\"\\"})
    .inc();
  reg.gauges("t_users", "Users.").get().set(-3);
  auto& h = reg.histograms("t_latency_seconds", "Latency.", {0.1, 1}).get();
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  // Same name, other type: detached, not rendered twice.
  reg.gauges("t_requests_total", "Clash.").get().set(99);
  auto text = reg.render();
  auto s = test::parse_prometheus(text);
  CAF_CHECK_EQUAL(s.error, "");
  CAF_CHECK_EQUAL(s.value("t_requests_total"), 5);
  CAF_CHECK_EQUAL(s.value(R"(t_errors_total{code="ZR-\"X\"\\"})"), 1);
  CAF_CHECK_EQUAL(s.value("t_users"), -3);
  CAF_CHECK_EQUAL(s.value(R"(t_latency_seconds_bucket{le="0.1"})"), 1);
  CAF_CHECK_EQUAL(s.value(R"(t_latency_seconds_bucket{le="1"})"), 2);
  CAF_CHECK_EQUAL(s.value(R"(t_latency_seconds_bucket{le="+Inf"})"), 3);
  CAF_CHECK_EQUAL(s.value("t_latency_seconds_count"), 3);
  CAF_CHECK_EQUAL(s.value("t_latency_seconds_sum"), 5.55);
  CAF_CHECK(text.find("# HELP t_requests_total Requests.\\nSecond line")
            != std::string::npos);
  // The checker itself rejects broken text.
  CAF_CHECK(!test::parse_prometheus("x 1\n").error.empty());
  CAF_CHECK(!test::parse_prometheus("# TYPE x counter\nx one\n").error.empty());
  CAF_CHECK(
    !test::parse_prometheus("# TYPE x counter\nx{a=\"1} 1\n").error.empty());
}

CAF_TEST(helpers count into the global registry) {
  auto before = test::parse_prometheus(metrics().render());
  metric::error("ZR-TEST");
  metric::observe_gateway_latency(std::chrono::milliseconds(300));
  auto after = test::parse_prometheus(metrics().render());
  CAF_CHECK_EQUAL(after.error, "");
  auto key = std::string{R"(zaki_errors_total{code="ZR-TEST"})"};
  CAF_CHECK_EQUAL(after.value(key), std::max(0.0, before.value(key)) + 1);
  CAF_CHECK(after.value("zaki_gateway_request_duration_seconds_count") >= 1);
}

CAF_TEST(proc status parses) {
  process_stats st;
  parse_proc_status("Name:\tzaki\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"
                    "Threads:\t7\n",
                    st);
  CAF_CHECK_EQUAL(st.rss_bytes, 1024u * 1024);
  CAF_CHECK_EQUAL(st.peak_rss_bytes, 2048u * 1024);
  CAF_CHECK_EQUAL(st.threads, 7u);
  auto live = read_process_stats();
  CAF_CHECK(live.rss_bytes > 0);
  CAF_CHECK(live.peak_rss_bytes >= live.rss_bytes);
}
