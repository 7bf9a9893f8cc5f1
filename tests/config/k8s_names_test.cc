// The name syntax checks against the API server's own examples: valid texts give no problem, invalid ones
// give the apimachinery message.
#include "engine/config/k8s_names.h"

#include <gtest/gtest.h>

namespace metalgate::config {
namespace {

TEST(K8sNames, Dns1123LabelsAreShortLowerCaseAndDotless) {
  EXPECT_EQ(check_dns1123_label("my-name"), "");
  EXPECT_EQ(check_dns1123_label("123-abc"), "");
  EXPECT_EQ(check_dns1123_label("a.b"), "must not contain dots");
  EXPECT_EQ(check_dns1123_label(std::string(64, 'a')), "must be no more than 63 characters");
  EXPECT_EQ(
      check_dns1123_label("-a"),
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
      "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
}

TEST(K8sNames, Dns1123SubdomainsLimitTheWholeNameNotEachLabel) {
  EXPECT_EQ(check_dns1123_subdomain("example.com"), "");
  EXPECT_EQ(check_dns1123_subdomain(std::string(70, 'a') + ".b"), "");
  EXPECT_EQ(check_dns1123_subdomain(std::string(254, 'a')), "must be no more than 253 characters");
  EXPECT_NE(check_dns1123_subdomain("a..b").find("a lowercase RFC 1123 subdomain"), std::string::npos);
  EXPECT_NE(check_dns1123_subdomain("Upper").find("a lowercase RFC 1123 subdomain"), std::string::npos);
}

TEST(K8sNames, WildcardSubdomainsAreStarDotThenASubdomain) {
  EXPECT_EQ(check_wildcard_dns1123_subdomain("*.example.com"), "");
  for (auto bad : {"*", "*.*.a.com", "f*.a.com", "*a.com"})
    EXPECT_NE(
        check_wildcard_dns1123_subdomain(bad).find("a wildcard DNS-1123 subdomain must start with '*.'"),
        std::string::npos)
        << bad;
}

TEST(K8sNames, Dns1035LabelsStartWithALetter) {
  EXPECT_EQ(check_dns1035_label("abc-123"), "");
  EXPECT_NE(check_dns1035_label("1svc").find("a DNS-1035 label"), std::string::npos);
  EXPECT_NE(check_dns1035_label("a.b").find("a DNS-1035 label"), std::string::npos);
}

TEST(K8sNames, QualifiedNamesHaveAnOptionalSubdomainPrefix) {
  EXPECT_EQ(check_qualified_name("MyName"), "");
  EXPECT_EQ(check_qualified_name("example.com/My_name.1"), "");
  EXPECT_EQ(check_qualified_name("/a"), "prefix part must be non-empty");
  EXPECT_EQ(check_qualified_name("a/"), "name part must be non-empty");
  EXPECT_EQ(check_qualified_name(std::string(64, 'a')), "name part must be no more than 63 characters");
  EXPECT_NE(check_qualified_name("Bad_Prefix/a").find("prefix part a lowercase RFC 1123 subdomain"),
            std::string::npos);
  EXPECT_NE(check_qualified_name("a/b/c").find("a qualified name must consist of"), std::string::npos);
  EXPECT_NE(check_qualified_name("bad key").find("name part must consist of alphanumeric characters"),
            std::string::npos);
}

TEST(K8sNames, LabelValuesMayBeEmpty) {
  EXPECT_EQ(check_label_value(""), "");
  EXPECT_EQ(check_label_value("my_value"), "");
  EXPECT_EQ(check_label_value(std::string(64, 'a')), "must be no more than 63 characters");
  EXPECT_NE(check_label_value("-x").find("a valid label must be an empty string"), std::string::npos);
}

TEST(K8sNames, ConfigKeysRefuseSlashesAndDotDirectories) {
  EXPECT_EQ(check_config_map_key("KEY_NAME"), "");
  EXPECT_EQ(check_config_map_key("5432"), "");
  EXPECT_EQ(check_config_map_key("."), "must not be '.'");
  EXPECT_EQ(check_config_map_key(".."), "must not be '..'");
  EXPECT_EQ(check_config_map_key("..a"), "must not start with '..'");
  EXPECT_NE(check_config_map_key("a/b").find("a valid config key must consist of"), std::string::npos);
  EXPECT_NE(check_config_map_key("").find("a valid config key must consist of"), std::string::npos);
}

TEST(K8sNames, IanaPortNames) {
  EXPECT_EQ(check_iana_port_name("http-alt"), "");
  EXPECT_EQ(check_iana_port_name("1234"), "must contain at least one letter (a-z)");
  EXPECT_EQ(check_iana_port_name("a--b"), "must not contain consecutive hyphens");
  EXPECT_EQ(check_iana_port_name("-ab"), "must not begin or end with a hyphen");
  EXPECT_EQ(check_iana_port_name("Http"),
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  EXPECT_EQ(check_iana_port_name("abcdefghijklmnop"), "must be no more than 15 characters");
}

TEST(K8sNames, DomainPrefixedPaths) {
  EXPECT_EQ(check_domain_prefixed_path("haproxy.org/ingress-controller"), "");
  EXPECT_EQ(check_domain_prefixed_path("acme.io/"),
            "must be a domain-prefixed path (such as \"acme.io/foo\")");
  EXPECT_EQ(check_domain_prefixed_path("acme"), "must be a domain-prefixed path (such as \"acme.io/foo\")");
  EXPECT_NE(check_domain_prefixed_path("Acme.io/x").find("a lowercase RFC 1123 subdomain"),
            std::string::npos);
  EXPECT_NE(check_domain_prefixed_path("acme.io/a b").find("Invalid path"), std::string::npos);
}

}  // namespace
}  // namespace metalgate::config
