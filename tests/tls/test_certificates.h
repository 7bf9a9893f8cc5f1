// Self-signed ECDSA P-256 certificates made on the fly for TLS tests (no files, nothing to expire in CI).
#pragma once

#include <string>
#include <vector>

namespace metalgate::tls::testing {

struct TestCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

// A self-signed certificate for `names` (the first is the CN; all are DNS SANs).
TestCertificate make_certificate(const std::vector<std::string>& names);

}  // namespace metalgate::tls::testing
