#include "session/oauth2_token.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace opsup::session {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(OAuth2Token, RequestBodyCarriesGrantScopesParamsAndCredentials) {
  OAuth2ClientCredentialsAuth settings;
  settings.scopes = {"opamp.read", "opamp write"};
  settings.endpoint_params = {{"audience", "https://opamp.example/"}};
  EXPECT_EQ(oauth2_token_request_body(settings, "agent id", "s3cr&t"),
            "grant_type=client_credentials&scope=opamp.read%20opamp%20write"
            "&audience=https%3A%2F%2Fopamp.example%2F&client_id=agent%20id&client_secret=s3cr%26t");
}

TEST(OAuth2Token, CredentialsInHeaderLeaveTheBody) {
  OAuth2ClientCredentialsAuth settings;
  settings.credentials_in_header = true;
  EXPECT_EQ(oauth2_token_request_body(settings, "id", "secret"), "grant_type=client_credentials");
  EXPECT_EQ(oauth2_basic_credentials("id", "secret"), "Basic " + base64_encode("id:secret"));
  EXPECT_EQ(base64_encode("id:secret"), "aWQ6c2VjcmV0");
}

TEST(OAuth2Token, ParsesASuccessfulAnswer) {
  const OAuth2Token token = parse_oauth2_token_response(
      200, R"({"access_token":"abc","token_type":"bearer","expires_in":3600})", "https://t");
  EXPECT_EQ(token.access_token, "abc");
  EXPECT_EQ(token.expires_in, std::chrono::seconds(3600));
  EXPECT_EQ(oauth2_authorization_value(token), "Bearer abc");
}

TEST(OAuth2Token, AcceptsExpiresInAsStringAndMissingType) {
  const OAuth2Token token =
      parse_oauth2_token_response(200, R"({"access_token":"abc","expires_in":"60"})", "u");
  EXPECT_EQ(token.expires_in, std::chrono::seconds(60));
  EXPECT_EQ(oauth2_authorization_value(token), "Bearer abc");
  const OAuth2Token no_expiry = parse_oauth2_token_response(200, R"({"access_token":"x"})", "u");
  EXPECT_FALSE(no_expiry.expires_in.has_value());
}

TEST(OAuth2Token, ErrorAnswerNamesEndpointStatusAndError) {
  try {
    parse_oauth2_token_response(401, R"({"error":"invalid_client","error_description":"nope"})",
                                "https://idp.example/token");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error &error) {
    EXPECT_THAT(error.what(), HasSubstr("https://idp.example/token"));
    EXPECT_THAT(error.what(), HasSubstr("401"));
    EXPECT_THAT(error.what(), HasSubstr("invalid_client"));
    EXPECT_THAT(error.what(), HasSubstr("nope"));
  }
}

TEST(OAuth2Token, MalformedAnswersAreErrorsWithoutEchoingTheBody) {
  EXPECT_THROW(parse_oauth2_token_response(200, "not json", "u"), std::runtime_error);
  EXPECT_THROW(parse_oauth2_token_response(200, R"({"token_type":"bearer"})", "u"),
               std::runtime_error);
  try {
    parse_oauth2_token_response(200, R"({"refresh_token":"SECRET"})", "u");
  } catch (const std::runtime_error &error) {
    EXPECT_THAT(error.what(), Not(HasSubstr("SECRET")));
  }
}

}  // namespace
}  // namespace opsup::session
