// Certificates for the TLS tests, made at test time with the openssl command
// line (scripts/install-deps.sh installs it): a CA, a server certificate it
// signs for 127.0.0.1 and localhost, a client certificate it signs, and a
// second CA with a client certificate of its own that the first CA's
// servers must refuse.
#ifndef VET_TESTS_TESTING_TEST_CERTS_H_
#define VET_TESTS_TESTING_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace vet::testing {

// Paths of PEM files in one directory. Keys are unencrypted.
struct TestCerts {
  std::string dir;
  std::string ca_cert;
  std::string server_cert;  // subjectAltName IP:127.0.0.1, DNS:localhost
  std::string server_key;
  std::string client_cert;  // signed by ca_cert
  std::string client_key;
  std::string other_ca_cert;
  std::string other_client_cert;  // signed by other_ca_cert
  std::string other_client_key;
};

// Creates `dir` (and its parents) and writes the certificates there, valid
// for a day. Returns kInternal with openssl's stderr when a step fails;
// takes about a second (EC keys).
absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir);

// The whole of a file ("" if it cannot be read).
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_TEST_CERTS_H_
