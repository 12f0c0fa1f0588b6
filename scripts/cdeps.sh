#!/usr/bin/env bash
# Installs the C library the build links (libdeflate: the pull's fast
# gzip path, package internal/inflate) when it is missing. Idempotent.
# Without it, build with -tags nolibdeflate (slower decompression).
set -euo pipefail
have() { printf '#include <libdeflate.h>\n' | "${CC:-cc}" -E - >/dev/null 2>&1; }
if have; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "setup: installing libdeflate-dev (apt)"
  apt-get install -y -qq libdeflate-dev >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq libdeflate-dev >/dev/null; }
fi
if ! have; then
  echo "setup: libdeflate is missing: install it (Debian/Ubuntu: apt-get install libdeflate-dev;" \
    "Fedora: dnf install libdeflate-devel; macOS: brew install libdeflate), or build with -tags nolibdeflate" >&2
  exit 1
fi
