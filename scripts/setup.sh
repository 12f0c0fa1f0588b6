#!/usr/bin/env bash
# Installs what the tests need on a fresh machine. Idempotent: tools already
# at the pinned version are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
GOBIN="$(go env GOPATH)/bin"
LINT_VERSION=v2.15.0

if ! "$GOBIN/golangci-lint" version 2>/dev/null | grep -q "${LINT_VERSION#v}"; then
  echo "setup: installing golangci-lint $LINT_VERSION (a few minutes the first time)"
  go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$LINT_VERSION"
fi
go mod download
echo "setup: ok"
