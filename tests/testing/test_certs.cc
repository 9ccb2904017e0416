// Runs openssl through RunCommand: EC P-256 keys (fast to generate), one
// request and signature per certificate, the SANs through an extension file
// because `openssl x509 -req` does not copy them from the request.
#include "tests/testing/test_certs.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/testing/subprocess.h"

namespace vet::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

absl::Status Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), kOpenssl);
  auto result = RunCommand(args, absl::Seconds(60));
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(args, " "), " exited ", result->exit_code, ": ", result->err));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return out ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path));
}

// A self-signed CA certificate and its key: <dir>/<name>.pem, <name>-key.pem.
absl::Status MakeCa(const std::string& dir, const std::string& name) {
  return Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-days", "1", "-subj", "/CN=vet-analytics test " + name, "-addext",
                  "basicConstraints=critical,CA:TRUE", "-addext",
                  "keyUsage=critical,keyCertSign,cRLSign", "-keyout", dir + "/" + name + "-key.pem",
                  "-out", dir + "/" + name + ".pem"});
}

// A key and a certificate signed by the CA `ca`, with the extensions in
// `extensions` (openssl's config syntax).
absl::Status MakeLeaf(const std::string& dir, const std::string& ca, const std::string& name,
                      const std::string& extensions) {
  const std::string base = dir + "/" + name;
  absl::Status s = WriteFile(base + ".ext", extensions);
  if (!s.ok()) return s;
  s = Openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
               "/CN=" + name, "-keyout", base + "-key.pem", "-out", base + ".csr"});
  if (!s.ok()) return s;
  return Openssl({"x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".pem", "-CAkey",
                  dir + "/" + ca + "-key.pem", "-CAcreateserial", "-days", "1", "-extfile",
                  base + ".ext", "-out", base + ".pem"});
}

}  // namespace

absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::string kServerExt =
      "basicConstraints=CA:FALSE\n"
      "keyUsage=digitalSignature\n"
      "extendedKeyUsage=serverAuth\n"
      "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  const std::string kClientExt =
      "basicConstraints=CA:FALSE\n"
      "keyUsage=digitalSignature\n"
      "extendedKeyUsage=clientAuth\n";
  absl::Status s = MakeCa(dir, "ca");
  if (s.ok()) s = MakeCa(dir, "other-ca");
  if (s.ok()) s = MakeLeaf(dir, "ca", "server", kServerExt);
  if (s.ok()) s = MakeLeaf(dir, "ca", "client", kClientExt);
  if (s.ok()) s = MakeLeaf(dir, "other-ca", "other-client", kClientExt);
  if (!s.ok()) return s;
  TestCerts certs;
  certs.dir = dir;
  certs.ca_cert = dir + "/ca.pem";
  certs.server_cert = dir + "/server.pem";
  certs.server_key = dir + "/server-key.pem";
  certs.client_cert = dir + "/client.pem";
  certs.client_key = dir + "/client-key.pem";
  certs.other_ca_cert = dir + "/other-ca.pem";
  certs.other_client_cert = dir + "/other-client.pem";
  certs.other_client_key = dir + "/other-client-key.pem";
  return certs;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace vet::testing
