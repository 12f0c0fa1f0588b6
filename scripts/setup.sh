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
scripts/cdeps.sh
go mod download
# The IAM oracle for differential tests (test/oracle): an AGPL npm package run only
# as a separate Node process, installed from the committed lock, never committed.
ORACLE_DIR=test/oracle
ORACLE_VERSION=0.1.173
for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup: $tool not found; install Node >= 20 with npm (needed by $ORACLE_DIR)" >&2; exit 1; }
done
ORACLE_PKG="$ORACLE_DIR/node_modules/@cloud-copilot/iam-simulate/package.json"
if [ "$(node -p "try { require('./$ORACLE_PKG').version } catch { '' }")" != "$ORACLE_VERSION" ]; then
  echo "setup: installing the IAM oracle (@cloud-copilot/iam-simulate $ORACLE_VERSION) in $ORACLE_DIR"
  npm ci --prefix "$ORACLE_DIR" --no-audit --no-fund --loglevel=error >/dev/null
fi
# MinIO, a real S3-compatible server the S3 integration tests start on loopback
# (internal/testkit/miniotest). Built from source once and cached outside the clone.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
minio_ok() {
  local info
  "$GOBIN/minio" --version >/dev/null 2>&1 && info="$(go version -m "$GOBIN/minio" 2>/dev/null)" &&
    grep -q "^[[:space:]]*mod[[:space:]]*github.com/minio/minio[[:space:]]*$MINIO_VERSION[[:space:]]" <<<"$info"
}
if ! minio_ok; then
  # Another setup may be building it right now: wait rather than build twice.
  while command -v pgrep >/dev/null 2>&1 && pgrep -f "go install github.com/minio/minio@$MINIO_VERSION" >/dev/null; do
    echo "setup: waiting for a minio build already in progress"
    sleep 10
  done
  if ! minio_ok; then
    echo "setup: installing minio $MINIO_VERSION (about 6 minutes the first time)"
    go install "github.com/minio/minio@$MINIO_VERSION"
  fi
fi
# Debian's headless Chromium for the dashboard's browser tests
# (internal/dashboard, driven by chromedp). Installed with apt when run as
# root; otherwise the tests fail saying how to install it.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (the dashboard's browser tests)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null || {
      apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; }
  else
    echo "setup: chromium not found; install it (Debian/Ubuntu, as root: apt-get install -y chromium) for the dashboard's browser tests" >&2
    exit 1
  fi
fi
echo "setup: ok"
