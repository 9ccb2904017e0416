// The server the model-path integration suites start: the demo practice on
// a free loopback port, no metrics listener, and the model only (no
// planner, no streaming) at a fake OpenAI-compatible server. Suites change
// what they exercise on top.
#ifndef VET_TESTS_TESTING_MODEL_SERVER_OPTIONS_H_
#define VET_TESTS_TESTING_MODEL_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "server/config.h"

namespace vet::testing {

struct ModelServerSetup {
  std::string state_dir;
  std::string demo_api_key;
  std::string model_base_url;
  std::string model;
  std::string pricing_file;
  int64_t demo_invoice_lines = 20000;
  int worker_threads = 4;
};

inline server::ServerOptions ModelServerOptions(const ModelServerSetup& setup) {
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "";
  options.state_dir = setup.state_dir;
  options.demo = true;
  options.demo_api_key = setup.demo_api_key;
  options.demo_invoice_lines = setup.demo_invoice_lines;
  options.worker_threads = setup.worker_threads;
  options.shutdown_grace = absl::Seconds(1);
  options.openai_base_url = setup.model_base_url;
  options.openai_api_key = "sk-test";
  options.openai_model = setup.model;
  options.planner = "off";
  options.model_stream = false;
  options.model_timeout = absl::Seconds(20);
  options.pricing_file = setup.pricing_file;
  return options;
}

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_MODEL_SERVER_OPTIONS_H_
