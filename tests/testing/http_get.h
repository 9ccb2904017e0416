// A plain HTTP/1.0 GET on loopback, for tests that read the server's
// /metrics: the whole response (status line, headers and body), or "" when
// nothing answers.
#ifndef VET_TESTS_TESTING_HTTP_GET_H_
#define VET_TESTS_TESTING_HTTP_GET_H_

#include <string>

namespace vet::testing {

std::string HttpGet(int port, const std::string& path);

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_HTTP_GET_H_
