// fork/execve of initdb and postgres, with the privilege drop done in the
// child between fork and exec. Everything the child needs (argv, environment,
// group list) is prepared before fork: after fork in a threaded process only
// async-signal-safe calls are allowed.
#include "tests/testing/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/posix.h"
#include "core/common/random.h"

namespace vet::testing {
namespace {

struct Identity {
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// Starts argv[0] with stdout and stderr appended to `log_path`, in `cwd`, as
// `who`. With `die_with_parent` the child gets SIGQUIT when the calling
// thread exits (PR_SET_PDEATHSIG), which a postmaster takes as "immediate
// shutdown".
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                            const std::string& cwd, const Identity& who, bool die_with_parent) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // A fixed environment: messages in English, no PG* variables of the
  // caller's leaking into the throwaway server.
  std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin", "LC_ALL=C", "LANG=C"};
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (const std::string& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", log_path, ": ", strerror(errno)));
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork failed: ", strerror(errno)));
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    if (who.drop) {
      if (setgroups(who.groups.size(), who.groups.data()) != 0 || setgid(who.gid) != 0 ||
          setuid(who.uid) != 0) {
        _exit(126);
      }
    }
    // After the uid change: changing credentials clears the death signal.
    if (die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (getppid() != parent) _exit(125);  // the parent already died
    }
    if (chdir(cwd.c_str()) != 0) _exit(124);
    vet::ForkedChildExecve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  return pid;
}

// Waits for `pid` until `deadline`; the exit code, -1 for a signal, or
// kDeadlineExceeded (the process is left running).
absl::StatusOr<int> WaitFor(pid_t pid, absl::Time deadline) {
  while (true) {
    int status = 0;
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (got < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("process ", pid, " still running"));
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling a child's exit
  }
}

std::string ReadTail(const std::string& path, size_t max_bytes = 4000) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

// A loopback port nobody listens on right now. Another process may take it
// before postgres binds it; Start retries with a new port when that happens.
absl::StatusOr<int> FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("bind to 127.0.0.1:0 failed: ", strerror(errno)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

std::string PostgresServer::DefaultBinDir() {
  const char* dir = getenv("VET_POSTGRES_BIN_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/lib/postgresql/15/bin";
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(const Options& options) {
  for (const char* binary : {"initdb", "postgres"}) {
    std::string path = absl::StrCat(options.bin_dir, "/", binary);
    if (access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("PostgreSQL 15 server binary ", path,
                       " not found: install the Debian package 'postgresql' (postgresql-15; "
                       "scripts/install-deps.sh installs it)"));
    }
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->options_ = options;
  Identity who;
  if (geteuid() == 0) {
    // initdb and postgres refuse to run as root.
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running PostgreSQL as root needs the 'postgres' system user, which the "
          "Debian package 'postgresql' creates");
    }
    who.drop = true;
    who.uid = pw->pw_uid;
    who.gid = pw->pw_gid;
    int n = 32;
    who.groups.resize(n);
    if (getgrouplist(pw->pw_name, pw->pw_gid, who.groups.data(), &n) < 0) {
      who.groups.resize(n);
      getgrouplist(pw->pw_name, pw->pw_gid, who.groups.data(), &n);
    }
    who.groups.resize(n);
  }
  server->as_postgres_user_ = who.drop;
  server->uid_ = who.uid;
  server->gid_ = who.gid;

  // As root the directory must be reachable by the postgres user: /tmp.
  const char* tmpdir = getenv("TMPDIR");
  std::string base = (!who.drop && tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
  std::string tmpl = base + "/vet_pg_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp in ", base, ": ", strerror(errno)));
  }
  server->dir_ = tmpl;
  server->data_dir_ = server->dir_ + "/data";
  server->log_path_ = server->dir_ + "/postgres.log";
  if (who.drop && chown(server->dir_.c_str(), who.uid, who.gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", server->dir_, ": ", strerror(errno)));
  }

  server->password_ = RandomHex(12);
  const std::string pwfile = server->dir_ + "/pwfile";
  {
    std::ofstream out(pwfile);
    out << server->password_ << "\n";
  }
  if (who.drop && chown(pwfile.c_str(), who.uid, who.gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", pwfile, ": ", strerror(errno)));
  }
  const absl::Time deadline = absl::Now() + options.start_timeout;
  const std::string initdb_log = server->dir_ + "/initdb.log";
  // Password (scram) on TCP like a real deployment; trust on the private
  // socket. --no-sync: nothing here needs to survive a power cut.
  auto initdb = Spawn({options.bin_dir + "/initdb", "-D", server->data_dir_, "-U", "postgres",
                       "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile,
                       "--no-sync", "--locale=C", "--encoding=UTF8"},
                      initdb_log, server->dir_, who, /*die_with_parent=*/true);
  if (!initdb.ok()) return initdb.status();
  absl::StatusOr<int> code = WaitFor(*initdb, deadline);
  if (!code.ok()) {
    kill(*initdb, SIGKILL);
    waitpid(*initdb, nullptr, 0);
  }
  std::filesystem::remove(pwfile);
  if (!code.ok() || *code != 0) {
    return absl::InternalError(absl::StrCat(
        "initdb failed (",
        code.ok() ? absl::StrCat("exit ", *code) : std::string(code.status().message()),
        "): ", ReadTail(initdb_log)));
  }

  // A port another process grabbed between FreePort and bind shows up as
  // the postmaster exiting; take another.
  absl::Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<int> port = FreePort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    started = server->Launch();
    if (started.ok()) started = server->WaitUntilReady(deadline);
    if (started.ok()) return server;
    if (!absl::StrContains(started.message(), "could not bind") &&
        !absl::StrContains(started.message(), "could not create any TCP/IP sockets")) {
      break;
    }
  }
  return started;
}

absl::Status PostgresServer::Launch() {
  Identity who;
  who.drop = as_postgres_user_;
  who.uid = uid_;
  who.gid = gid_;
  who.groups = {gid_};
  absl::StatusOr<pid_t> pid =
      Spawn({options_.bin_dir + "/postgres", "-D", data_dir_, "-p", absl::StrCat(port_), "-c",
             "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_,
             // Throwaway data: durability off for speed.
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
             "shared_buffers=16MB", "-c", "max_connections=100",
             // Deadlocks between racing test threads resolve quickly.
             "-c", "deadlock_timeout=100ms"},
            log_path_, dir_, who, /*die_with_parent=*/true);
  if (!pid.ok()) return pid.status();
  postmaster_ = *pid;
  return absl::OkStatus();
}

absl::Status PostgresServer::WaitUntilReady(absl::Time deadline) {
  const std::string conninfo = absl::StrCat("host=127.0.0.1 port=", port_,
                                            " dbname=postgres user=postgres connect_timeout=2");
  while (true) {
    int status = 0;
    if (waitpid(postmaster_, &status, WNOHANG) == postmaster_) {
      postmaster_ = -1;
      return absl::InternalError(
          absl::StrCat("postgres exited during start-up; its log: ", LogTail()));
    }
    if (PQping(conninfo.c_str()) == PQPING_OK) return absl::OkStatus();
    if (absl::Now() > deadline) {
      StopPostmaster().IgnoreError();
      return absl::InternalError(absl::StrCat("postgres did not accept connections on port ", port_,
                                              " in time; its log: ", LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(20));  // polling readiness with a deadline
  }
}

absl::Status PostgresServer::StopPostmaster() {
  if (postmaster_ <= 0) return absl::OkStatus();
  // SIGINT: fast shutdown (disconnect sessions, checkpoint, exit).
  kill(postmaster_, SIGINT);
  absl::StatusOr<int> code = WaitFor(postmaster_, absl::Now() + absl::Seconds(30));
  if (!code.ok()) {
    // SIGQUIT: immediate shutdown; then make sure.
    kill(postmaster_, SIGQUIT);
    code = WaitFor(postmaster_, absl::Now() + absl::Seconds(10));
    if (!code.ok()) {
      kill(postmaster_, SIGKILL);
      waitpid(postmaster_, nullptr, 0);
    }
  }
  postmaster_ = -1;
  return code.ok() ? absl::OkStatus() : code.status();
}

PostgresServer::~PostgresServer() {
  StopPostmaster().IgnoreError();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string PostgresServer::url(const std::string& database) const {
  return absl::StrCat("postgres://postgres:", password_, "@127.0.0.1:", port_, "/", database);
}

std::string PostgresServer::LogTail() const { return ReadTail(log_path_); }

absl::Status PostgresServer::Restart() {
  absl::Status stopped = StopPostmaster();
  if (!stopped.ok()) return stopped;
  absl::Status launched = Launch();
  if (!launched.ok()) return launched;
  return WaitUntilReady(absl::Now() + options_.start_timeout);
}

absl::StatusOr<std::string> PostgresServer::Query(const std::string& sql,
                                                  const std::string& database) {
  PGconn* conn = PQconnectdb(url(database).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::InternalError(absl::StrCat("connecting to ", database, ": ", error));
  }
  PGresult* result = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(result);
  absl::StatusOr<std::string> out;
  if (status == PGRES_TUPLES_OK) {
    out = PQntuples(result) > 0 && PQnfields(result) > 0 ? PQgetvalue(result, 0, 0) : "";
  } else if (status == PGRES_COMMAND_OK) {
    out = "";
  } else {
    out = absl::InternalError(PQresultErrorMessage(result));
  }
  PQclear(result);
  PQfinish(conn);
  return out;
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase() {
  std::string name;
  {
    absl::MutexLock lock(&mu_);
    name = absl::StrCat("t_", ++next_database_);
  }
  absl::StatusOr<std::string> created = Query(absl::StrCat("CREATE DATABASE ", name));
  if (!created.ok()) return created.status();
  return name;
}

}  // namespace vet::testing
