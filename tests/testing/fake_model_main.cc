// fake-openai-server: the fake model of fake_model.h on a loopback port, for
// the load scripts (scripts/bench-load-ask.sh). Prints "listening on PORT"
// once it accepts, then serves until SIGTERM or SIGINT.
#include <signal.h>

#include <iostream>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "tests/testing/fake_model.h"
#include "tests/testing/fake_openai_server.h"

ABSL_FLAG(absl::Duration, delay, absl::Milliseconds(800), "time before each reply, like a model's");
ABSL_FLAG(absl::Duration, spin, absl::Seconds(2),
          "how long the program for a 'cpu-heavy' question keeps a core busy");

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  absl::ParseCommandLine(argc, argv);

  auto server = vet::testing::FakeOpenAiServer::Start();
  if (!server.ok()) {
    std::cerr << "fake-openai-server: " << server.status() << "\n";
    return 1;
  }
  vet::testing::FakeModelOptions options;
  options.delay = absl::GetFlag(FLAGS_delay);
  options.spin = absl::GetFlag(FLAGS_spin);
  (*server)->set_record_requests(false);
  (*server)->SetResponder([options](const vet::testing::FakeOpenAiServer::Request& request) {
    return vet::testing::FakeModelReply(request, options);
  });
  std::cout << "listening on " << (*server)->port() << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  return 0;
}
