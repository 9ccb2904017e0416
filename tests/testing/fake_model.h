// The answers of the standalone fake model (fake_model_main.cc) that the
// load scripts put behind the server's OPENAI_BASE_URL: every chat
// completion is fixed pandas code, given after a delay like a real model's,
// and a question carrying kCpuHeavyMarker gets code that keeps a core busy,
// so that a benchmark can make one practice flood the sandbox.
#ifndef VET_TESTS_TESTING_FAKE_MODEL_H_
#define VET_TESTS_TESTING_FAKE_MODEL_H_

#include "absl/time/time.h"
#include "tests/testing/fake_openai_server.h"

namespace vet::testing {

// A question containing this gets the CPU-heavy program.
inline constexpr char kCpuHeavyMarker[] = "cpu-heavy";

struct FakeModelOptions {
  // Before the reply's first byte, as a model's time to answer.
  absl::Duration delay = absl::Milliseconds(800);
  // How long the CPU-heavy program spins.
  absl::Duration spin = absl::Seconds(2);
};

// The reply to one request: the program in a ```python block, streamed
// (server-sent events) when the request asks for "stream": true, else one
// JSON completion. Pure; thread-safe.
FakeOpenAiServer::Response FakeModelReply(const FakeOpenAiServer::Request& request,
                                          const FakeModelOptions& options);

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_FAKE_MODEL_H_
