#!/usr/bin/env bash
# Installs every Debian 12 package that vet-analytics needs to build, run and test.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config ccache git ca-certificates tzdata
  # gRPC, Protobuf, Abseil and friends
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev grpc-proto
  # HTTP client, JSON, metrics, stores
  libcurl4-openssl-dev rapidjson-dev prometheus-cpp-dev libsqlite3-dev libpq-dev
  # SHA-256 of API keys (libcrypto)
  libssl-dev
  # vetctl chat: line editing
  libedit-dev
  # tests
  libgtest-dev libgmock-dev
  # the fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizer
  # runtimes; dpkg-dev unpacks Abseil's source for the TSan gate (scripts/tsan.sh)
  clang libclang-rt-14-dev dpkg-dev
  # the coverage gate (scripts/coverage.sh) and the lint gate (scripts/lint.sh)
  gcovr clang-format clang-tidy
  # the sandbox: Debian's Python with pandas, numpy and matplotlib
  python3 python3-pandas python3-numpy python3-matplotlib bubblewrap libseccomp-dev
  # used by the tests that start servers
  postgresql prometheus
  # the deploy/ checks (tests/deploy/) parse YAML
  python3-yaml
  # the TLS tests generate their certificates
  openssl
  # the HTTP/JSON gateway (server/http_gateway.h)
  libcivetweb-dev
  # the web console's browser test (tests/web/: playwright-core from npm
  # drives it headless; runs as root with --no-sandbox)
  # (npm: below, only when no npm came with the installed Node)
  chromium nodejs
  # clients/examples/ (tests/examples/): Python's grpcio and grpc_tools, jq
  # for the curl example, and Go with grpc-go, built offline in GOPATH mode
  # (grpc-go 1.33 reads APIv2 messages only through golang/protobuf 1.5)
  python3-grpcio python3-grpc-tools jq
  golang-go golang-google-grpc-dev golang-google-protobuf-dev
  golang-github-golang-protobuf-1-5-dev protoc-gen-go-grpc
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -o DPkg::Lock::Timeout=600
  $SUDO apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
fi

# npm for the browser test: a Node from nodesource brings its own (and
# conflicts with Debian's npm package); Debian's nodejs needs Debian's npm.
if ! command -v npm >/dev/null; then
  echo "install-deps: installing npm"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -o DPkg::Lock::Timeout=600
  $SUDO apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends npm
fi

# The unprivileged account the sandbox runs as when the server runs as root
# (--sandbox_user). No home, no shell, no password.
if ! getent passwd vet-sandbox >/dev/null; then
  echo "install-deps: adding the system user vet-sandbox"
  $SUDO useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin vet-sandbox
fi
