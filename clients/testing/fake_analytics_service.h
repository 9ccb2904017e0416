// A scripted AnalyticsService for vetctl's tests, on a loopback port of its
// own: what vetctl sent (metadata, requests, uploaded chunks) can be read
// back, and each call answers as the test sets it up. Used in-process by
// vetctl_rpc_test.cc and behind the vetctl binary by vetctl_process_test.cc.
#ifndef VET_CLIENTS_TESTING_FAKE_ANALYTICS_SERVICE_H_
#define VET_CLIENTS_TESTING_FAKE_ANALYTICS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet::cli {

namespace v1 = ::vetanalytics::v1;

// Answers Ask with a scripted stream and status; the unary calls check the
// API key like the real server does.
class FakeAnalyticsService final : public v1::AnalyticsService::Service {
 public:
  std::vector<v1::AskEvent> events;
  grpc::Status ask_status = grpc::Status::OK;
  // Ask waits, after the events, until the client cancels or gives up.
  bool hold_until_cancelled = false;
  absl::Notification events_written;

  v1::AskRequest last_request() {
    absl::MutexLock lock(&mu_);
    return last_request_;
  }
  std::string last_api_key() {
    absl::MutexLock lock(&mu_);
    return last_api_key_;
  }

  // If set, answers every Ask instead of `events` and `ask_status`.
  std::function<grpc::Status(grpc::ServerContext*, const v1::AskRequest&,
                             grpc::ServerWriter<v1::AskEvent>*)>
      ask_handler;

  std::vector<v1::AskRequest> ask_requests() {
    absl::MutexLock lock(&mu_);
    return ask_requests_;
  }

  // GetSession answers with these; NOT_FOUND for any other id.
  std::map<std::string, v1::Session> sessions;

  std::vector<std::string> got_sessions() {
    absl::MutexLock lock(&mu_);
    return got_sessions_;
  }
  std::vector<std::string> ended_sessions() {
    absl::MutexLock lock(&mu_);
    return ended_sessions_;
  }
  int budget_calls() {
    absl::MutexLock lock(&mu_);
    return budget_calls_;
  }

  grpc::Status Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                   grpc::ServerWriter<v1::AskEvent>* writer) override {
    Record(*context, *request);
    if (ask_handler) return ask_handler(context, *request, writer);
    for (const v1::AskEvent& event : events) writer->Write(event);
    events_written.Notify();
    if (hold_until_cancelled) {
      // Bounded, so that a broken client fails the test instead of hanging.
      const absl::Time give_up = absl::Now() + absl::Seconds(20);
      while (!context->IsCancelled() && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    return ask_status;
  }

  grpc::Status GetBudget(grpc::ServerContext* context,
                         const v1::GetBudgetRequest* request,
                         v1::Budget* response) override {
    if (grpc::Status auth = Authenticate(*context); !auth.ok()) return auth;
    {
      absl::MutexLock lock(&mu_);
      ++budget_calls_;
    }
    response->set_practice_id(request->practice_id());
    response->set_limit_micros(50'000'000);
    response->set_spent_micros(1'250'000);
    return grpc::Status::OK;
  }

  grpc::Status GetSession(grpc::ServerContext* context,
                          const v1::GetSessionRequest* request,
                          v1::Session* response) override {
    if (grpc::Status auth = Authenticate(*context); !auth.ok()) return auth;
    {
      absl::MutexLock lock(&mu_);
      got_sessions_.push_back(request->session_id());
    }
    const auto session = sessions.find(request->session_id());
    if (session != sessions.end()) {
      *response = session->second;
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no session ", request->session_id()));
  }

  // DescribeDataset answers with `dataset`, or with `dataset_status` when
  // that is not OK (the real server: NOT_FOUND for a practice without data).
  v1::DatasetDescription dataset;
  grpc::Status dataset_status = grpc::Status::OK;

  grpc::Status DescribeDataset(grpc::ServerContext* context,
                               const v1::DescribeDatasetRequest* request,
                               v1::DatasetDescription* response) override {
    if (grpc::Status auth = Authenticate(*context); !auth.ok()) return auth;
    if (!dataset_status.ok()) return dataset_status;
    *response = dataset;
    return grpc::Status::OK;
  }

  // ListSessions answers with `session_list` and keeps the request.
  v1::ListSessionsResponse session_list;
  v1::ListSessionsRequest last_list_request() {
    absl::MutexLock lock(&mu_);
    return last_list_request_;
  }

  grpc::Status ListSessions(grpc::ServerContext* context,
                            const v1::ListSessionsRequest* request,
                            v1::ListSessionsResponse* response) override {
    if (grpc::Status auth = Authenticate(*context); !auth.ok()) return auth;
    {
      absl::MutexLock lock(&mu_);
      last_list_request_ = *request;
    }
    *response = session_list;
    return grpc::Status::OK;
  }

  // EndSession answers NOT_FOUND for these (expired, or never there) and OK
  // for any other id, which it records.
  std::set<std::string> gone_sessions;

  grpc::Status EndSession(grpc::ServerContext* context,
                          const v1::EndSessionRequest* request,
                          v1::EndSessionResponse* response) override {
    if (grpc::Status auth = Authenticate(*context); !auth.ok()) return auth;
    if (gone_sessions.count(request->session_id()) > 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("no session ", request->session_id()));
    }
    absl::MutexLock lock(&mu_);
    ended_sessions_.push_back(request->session_id());
    return grpc::Status::OK;
  }

  // ListAudit answers with `audit` after checking the key, and keeps the
  // request.
  v1::ListAuditResponse audit;
  v1::ListAuditRequest last_audit_request() {
    absl::MutexLock lock(&mu_);
    return last_audit_request_;
  }

  grpc::Status ListAudit(grpc::ServerContext* context,
                         const v1::ListAuditRequest* request,
                         v1::ListAuditResponse* response) override {
    if (grpc::Status auth = Authenticate(*context); !auth.ok()) return auth;
    {
      absl::MutexLock lock(&mu_);
      last_audit_request_ = *request;
    }
    if (request->page_token() == "bad") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "page_token is not one this server issued");
    }
    *response = audit;
    return grpc::Status::OK;
  }

  // ImportDataset records every chunk, then answers with import_status or,
  // if that is OK, import_report.
  grpc::Status import_status = grpc::Status::OK;
  v1::ImportReport import_report;

  std::vector<v1::ImportChunk> import_chunks() {
    absl::MutexLock lock(&mu_);
    return import_chunks_;
  }
  int import_calls() {
    absl::MutexLock lock(&mu_);
    return import_calls_;
  }

  grpc::Status ImportDataset(grpc::ServerContext* context,
                             grpc::ServerReader<v1::ImportChunk>* reader,
                             v1::ImportReport* response) override {
    {
      absl::MutexLock lock(&mu_);
      ++import_calls_;
    }
    if (grpc::Status auth = Authenticate(*context); !auth.ok()) return auth;
    v1::ImportChunk chunk;
    while (reader->Read(&chunk)) {
      absl::MutexLock lock(&mu_);
      import_chunks_.push_back(chunk);
    }
    if (!import_status.ok()) return import_status;
    *response = import_report;
    return grpc::Status::OK;
  }

 private:
  static grpc::Status Authenticate(const grpc::ServerContext& context) {
    const auto& metadata = context.client_metadata();
    const auto key = metadata.find("x-api-key");
    if (key == metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no API key");
    }
    if (key->second != "demo-key") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "the key belongs to another practice");
    }
    return grpc::Status::OK;
  }

  void Record(const grpc::ServerContext& context,
              const v1::AskRequest& request) {
    absl::MutexLock lock(&mu_);
    last_request_ = request;
    ask_requests_.push_back(request);
    const auto key = context.client_metadata().find("x-api-key");
    if (key != context.client_metadata().end()) {
      last_api_key_ = std::string(key->second.data(), key->second.size());
    }
  }

  absl::Mutex mu_;
  std::vector<v1::ImportChunk> import_chunks_ ABSL_GUARDED_BY(mu_);
  int import_calls_ ABSL_GUARDED_BY(mu_) = 0;
  v1::AskRequest last_request_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::AskRequest> ask_requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> got_sessions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> ended_sessions_ ABSL_GUARDED_BY(mu_);
  int budget_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_api_key_ ABSL_GUARDED_BY(mu_);
  v1::ListAuditRequest last_audit_request_ ABSL_GUARDED_BY(mu_);
  v1::ListSessionsRequest last_list_request_ ABSL_GUARDED_BY(mu_);
};

// Answers like the real server: a question without a session starts "s-1",
// "s-2", ...; one with a session continues it (NOT_FOUND once ended). The
// question "bad" is refused with INVALID_ARGUMENT after SessionStarted;
// "slow" waits for the client to cancel.
class ChatServer {
 public:
  explicit ChatServer(FakeAnalyticsService& service) {
    service.ask_handler = [this, &service](
                              grpc::ServerContext* context,
                              const v1::AskRequest& request,
                              grpc::ServerWriter<v1::AskEvent>* writer) {
      v1::AskEvent started;
      started.set_seq(1);
      {
        absl::MutexLock lock(&mu_);
        std::string id = request.session_id();
        if (id.empty()) {
          id = absl::StrCat("s-", ++sessions_);
        } else if (turns_.count(id) == 0) {
          return grpc::Status(grpc::StatusCode::NOT_FOUND,
                              absl::StrCat("no session ", id));
        }
        for (const std::string& ended : service.ended_sessions()) {
          if (ended == id) {
            return grpc::Status(grpc::StatusCode::NOT_FOUND,
                                absl::StrCat("session ", id, " has ended"));
          }
        }
        started.mutable_session_started()->set_session_id(id);
        started.mutable_session_started()->set_resumed(
            !request.session_id().empty());
        started.mutable_session_started()->set_turn(++turns_[id]);
      }
      writer->Write(started);
      if (request.question() == "bad") {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "cannot answer that");
      }
      if (request.question() == "slow") {
        service.events_written.Notify();
        const absl::Time give_up = absl::Now() + absl::Seconds(20);
        while (!context->IsCancelled() && absl::Now() < give_up) {
          absl::SleepFor(absl::Milliseconds(5));
        }
        return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      }
      v1::AskEvent answer;
      answer.set_seq(2);
      answer.mutable_final_answer()->set_text(
          absl::StrCat("answer to ", request.question()));
      writer->Write(answer);
      return grpc::Status::OK;
    };
  }

 private:
  absl::Mutex mu_;
  int sessions_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> turns_ ABSL_GUARDED_BY(mu_);
};

// `service` listening on 127.0.0.1 at a port the kernel picked; `server` is
// null if it could not start. Shut it down before `service` goes.
struct LoopbackServer {
  std::unique_ptr<grpc::Server> server;
  std::string addr;  // 127.0.0.1:PORT
};

inline LoopbackServer StartOnLoopback(grpc::Service& service) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  LoopbackServer started;
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || port == 0) return {};
  started.addr = absl::StrCat("127.0.0.1:", port);
  return started;
}

}  // namespace vet::cli

#endif  // VET_CLIENTS_TESTING_FAKE_ANALYTICS_SERVICE_H_
