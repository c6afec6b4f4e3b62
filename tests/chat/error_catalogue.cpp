#define CAF_SUITE chat.error_catalogue
#include "caf/test/unit_test.hpp"

#include "chat/error_catalogue.hpp"

#include "messages/errors.hpp"

#include <set>
#include <string>

using namespace zaki;

namespace {

bool is_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// Internals that must never reach a user: hosts, ports, paths, stack traces.
bool mentions_internals(std::string_view text) {
  for (std::string_view word :
       {"127.0.0.1", "localhost", "http", "::", "stack", "exception", "errno",
        "/v1/", "null", "nullptr", "std::"})
    if (text.find(word) != std::string_view::npos)
      return true;
  return false;
}

} // namespace

CAF_TEST(the table is in enum order and ids are unique and well formed) {
  const auto& xs = all_errors();
  CAF_REQUIRE_EQUAL(xs.size(),
                    static_cast<size_t>(error_code::media_save_failed) + 1);
  std::set<std::string_view> ids;
  std::set<std::string_view> titles;
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto& e = xs[i];
    CAF_CHECK_EQUAL(static_cast<size_t>(e.code), i);
    CAF_CHECK(ids.insert(e.id).second);
    CAF_CHECK(titles.insert(e.title).second);
    CAF_CHECK_EQUAL(e.id.substr(0, 3), "ZR-");
    // ZR-AREA-WHAT: at least two dash-separated parts after the prefix.
    CAF_CHECK(e.id.find('-', 3) != std::string_view::npos);
    CAF_CHECK(e.id.back() != '-');
    for (char c : e.id)
      CAF_CHECK(is_id_char(c));
    CAF_CHECK(!e.emoji.empty());
    CAF_CHECK(!e.title.empty());
    CAF_CHECK(!e.explanation.empty());
    CAF_CHECK(!e.user_action.empty());
    CAF_CHECK(e.title.size() <= 64);
    CAF_CHECK(!mentions_internals(e.title));
    CAF_CHECK(e.operator_only || !mentions_internals(e.explanation));
    CAF_CHECK(e.operator_only || !mentions_internals(e.user_action));
    // The plain texts are escaped later, but none should need it.
    for (auto text : {e.title, e.explanation, e.user_action})
      CAF_CHECK(text.find_first_of("<>&") == std::string_view::npos);
    CAF_CHECK(e.http_status >= 400 && e.http_status <= 599);
    CAF_CHECK_EQUAL(describe(e.code).id, e.id);
    CAF_CHECK_EQUAL(to_string(e.code), e.id);
    CAF_CHECK(error_code_from_id(e.id) == e.code);
  }
}

CAF_TEST(required codes exist with their documented ids) {
  CAF_CHECK_EQUAL(to_string(error_code::gateway_timeout), "ZR-GATEWAY-TIMEOUT");
  CAF_CHECK_EQUAL(to_string(error_code::gateway_unauthorized),
                  "ZR-GATEWAY-UNAUTHORIZED");
  CAF_CHECK_EQUAL(to_string(error_code::provider_auth_failed),
                  "ZR-PROVIDER-AUTH");
  CAF_CHECK_EQUAL(to_string(error_code::session_lock_timeout),
                  "ZR-SESSION-LOCK-TIMEOUT");
  CAF_CHECK(describe(error_code::bot_token_invalid).operator_only);
  CAF_CHECK(!describe(error_code::bot_token_invalid).retry_button);
  // The two 401s must read differently to the user.
  CAF_CHECK_NOT_EQUAL(describe(error_code::gateway_unauthorized).explanation,
                      describe(error_code::provider_auth_failed).explanation);
  // Retrying cannot fix a wrong key, so no button invites it.
  CAF_CHECK(!describe(error_code::gateway_unauthorized).retry_button);
  CAF_CHECK(!describe(error_code::provider_auth_failed).retry_button);
  CAF_CHECK(describe(error_code::gateway_timeout).retry_button);
  CAF_CHECK_EQUAL(describe(error_code::rate_limited).http_status, 429);
}

CAF_TEST(unknown ids and out of range codes are handled) {
  CAF_CHECK(!error_code_from_id(""));
  CAF_CHECK(!error_code_from_id("ZR-GATEWAY-TIMEOU"));
  CAF_CHECK(!error_code_from_id("zr-gateway-timeout"));
  CAF_CHECK(!error_code_from_id("ZR-GATEWAY-TIMEOUT "));
  auto bogus = static_cast<error_code>(200);
  CAF_CHECK_EQUAL(describe(bogus).id, "ZR-ROUTER-INTERNAL");
}

CAF_TEST(gateway failures map to the right codes) {
  using ec = error_code;
  CAF_CHECK(classify_gateway_error(401, "unauthorized")
            == ec::gateway_unauthorized);
  CAF_CHECK(classify_gateway_error(401, "") == ec::gateway_unauthorized);
  CAF_CHECK(classify_gateway_error(401, "authentication_error")
            == ec::provider_auth_failed);
  CAF_CHECK(classify_gateway_error(502, "api_error") == ec::provider_failed);
  CAF_CHECK(classify_gateway_error(408, "api_error") == ec::provider_failed);
  CAF_CHECK(classify_gateway_error(429, "rate_limit_error")
            == ec::provider_failed);
  CAF_CHECK(classify_gateway_error(429, "insufficient_quota")
            == ec::provider_quota);
  CAF_CHECK(classify_gateway_error(504, "") == ec::gateway_timeout);
  CAF_CHECK(classify_gateway_error(500, "api_error") == ec::gateway_error);
  // 400 and 404: the gateway got the message and refused it.
  CAF_CHECK(classify_gateway_error(400, "invalid_request_error")
            == ec::gateway_rejected);
  CAF_CHECK(classify_gateway_error(404, "") == ec::gateway_rejected);
  CAF_CHECK(classify_gateway_error(405, "") == ec::internal);
  // SSE error events arrive after a 200.
  CAF_CHECK(classify_gateway_error(200, "api_error") == ec::provider_failed);
  CAF_CHECK(classify_gateway_error(200, "authentication_error")
            == ec::provider_auth_failed);
  CAF_CHECK(classify_gateway_error(200, "") == ec::gateway_bad_response);
  CAF_CHECK(classify_gateway_error(200, "weird") == ec::gateway_error);
}

CAF_TEST(actor error codes map to catalogue entries) {
  CAF_CHECK(error_code_of(errc::not_provisioned)
            == error_code::not_provisioned);
  CAF_CHECK(error_code_of(errc::container_starting)
            == error_code::container_starting);
  CAF_CHECK(error_code_of(errc::container_down) == error_code::container_down);
  CAF_CHECK(error_code_of(errc::container_failed)
            == error_code::container_failed);
  CAF_CHECK(error_code_of(errc::capacity_exhausted)
            == error_code::capacity_exhausted);
  CAF_CHECK(error_code_of(errc::backend_unavailable)
            == error_code::backend_unavailable);
  CAF_CHECK(error_code_of(errc::session_lock_timeout)
            == error_code::session_lock_timeout);
  CAF_CHECK(error_code_of(errc::internal) == error_code::internal);
  CAF_CHECK(error_code_of(errc::none) == error_code::internal);
  CAF_CHECK_EQUAL(to_string(error_code_of(
                    code_of(make_error(errc::container_down, "context")))),
                  "ZR-CONTAINER-DOWN");
}
