#!/usr/bin/env bash
# Builds the Go example offline from Debian 12's Go packages (GOPATH mode, no
# module proxy): golang-go, golang-google-grpc-dev, golang-google-protobuf-dev,
# golang-github-golang-protobuf-1-5-dev (grpc-go 1.33 decodes through it; the
# 1.3 package it replaces cannot read APIv2 messages), protoc-gen-go-grpc and
# protobuf-compiler. Debian ships protoc-gen-go only as source: it is built
# here too. Generated code goes under OUT, never into the checkout.
#
#   clients/examples/go/build.sh OUT     # then: OUT/bin/ask -addr 127.0.0.1:50051
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
proto_dir=$here/../../../proto
export GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$out/gopath:/usr/share/gocode"
export GOCACHE=${GOCACHE:-$out/cache}
mkdir -p "$out/bin" "$out/gopath/src/ask"
go build -o "$out/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
# go_package in the proto puts the code at vet-analytics/gen/go/vetanalytics/v1.
protoc -I "$proto_dir" --plugin=protoc-gen-go="$out/bin/protoc-gen-go" \
  --go_out="$out/gopath/src" --go-grpc_out="$out/gopath/src" vetanalytics/v1/analytics.proto
cp "$here/main.go" "$out/gopath/src/ask/"
go build -o "$out/bin/ask" ask
