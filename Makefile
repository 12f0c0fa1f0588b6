# trailwarden: `make demo` runs the main job on the shipped example,
# `make test` installs what the tests need and runs every test.
SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(GOBIN)/golangci-lint
BIN := bin/trailwarden
FUZZTIME ?= 100000x
# The store loads through DuckDB's Arrow interface, which duckdb-go builds
# only with this tag; every go command here gets it.
export GOFLAGS := $(strip $(GOFLAGS) -tags=duckdb_arrow)

.PHONY: all build cdeps demo docs test setup lint vet unit fuzz-smoke fuzz-long faults golden bench clean

all: build

build: cdeps
	$(GO) build -trimpath -o $(BIN) ./cmd/trailwarden

# The C library the build links (libdeflate), installed if missing.
cdeps:
	@scripts/cdeps.sh

# The main job on the built-in examples: print and prove every policy of the
# example config, then create a demo organization's bucket, verify it, check
# its coverage hour by hour, pull it into DuckDB, ask it the common
# questions, audit and plan its configuration offline from the snapshot
# the demo writes, and write all of it as one HTML report.
demo: build
	@for kind in bucket key reader-trust reader-access; do \
	  echo "== trailwarden policy $$kind --config examples/trailwarden.yaml"; \
	  $(BIN) policy $$kind --config examples/trailwarden.yaml || exit 1; \
	done
	@echo "== trailwarden policy prove --config examples/trailwarden.yaml (one verdict per policy; exits 1 unless all are proven)"
	@mkdir -p out
	@$(BIN) policy prove --config examples/trailwarden.yaml > out/prove.txt; rc=$$?; \
	  grep -E '^[a-z-]+ policy \(' out/prove.txt; exit $$rc
	@echo "== trailwarden demo --out out/demo-bucket --accounts 5 --regions us-east-1,eu-west-1 --days 2"
	@rm -rf out/demo-bucket
	@$(BIN) demo --out out/demo-bucket --accounts 5 --regions us-east-1,eu-west-1 --days 2
	@echo "== trailwarden verify --source out/demo-bucket --since 2026-11-20 --until 2026-11-22"
	@$(BIN) verify --source out/demo-bucket --public-keys out/demo-bucket/.trailwarden/public-keys.json \
	  --since 2026-11-20 --until 2026-11-22
	@echo "== trailwarden coverage --source out/demo-bucket --since 2026-11-20 --until 2026-11-22"
	@$(BIN) coverage --source out/demo-bucket --since 2026-11-20 --until 2026-11-22
	@echo "== trailwarden pull --source out/demo-bucket --db out/trail.duckdb"
	@rm -f out/trail.duckdb
	@$(BIN) pull --source out/demo-bucket --db out/trail.duckdb
	@for q in pipeline-tampering console-logins-without-mfa root-activity access-denied-by-principal; do \
	  echo "== trailwarden query --db out/trail.duckdb --named $$q (first lines)"; \
	  $(BIN) query --db out/trail.duckdb --named $$q | head -8 || exit 1; \
	done
	@echo "== trailwarden detect --db out/trail.duckdb --config out/demo-bucket/.trailwarden/trailwarden.yaml (one detection per planted pipeline event; the look-alikes on other trails, buckets and keys do not fire)"
	@$(BIN) detect --db out/trail.duckdb --config out/demo-bucket/.trailwarden/trailwarden.yaml --fail-on never > out/detect.txt; rc=$$?; \
	  grep -E '^(CRITICAL|HIGH|MEDIUM|LOW|INFORMATIONAL)  |detection\(s\)$$|^[0-9]+ detections' out/detect.txt | paste -d' ' - - | \
	  sed -E 's/  rule [0-9a-f-]+ \(([^)]*)\), ([0-9]+) detection\(s\)/  [\2, \1]/'; exit $$rc
	@echo "== trailwarden audit --config out/demo-bucket/.trailwarden/trailwarden.yaml --snapshot out/demo-bucket/.trailwarden/snapshot.json --standard baseline (failures; the demo plants them)"
	@$(BIN) audit --config out/demo-bucket/.trailwarden/trailwarden.yaml --snapshot out/demo-bucket/.trailwarden/snapshot.json \
	  --standard baseline --fail-on never --wide | grep -E 'FAIL|fix:|findings:'
	@echo "== trailwarden plan --config out/demo-bucket/.trailwarden/trailwarden.yaml --snapshot out/demo-bucket/.trailwarden/snapshot.json"
	@$(BIN) plan --config out/demo-bucket/.trailwarden/trailwarden.yaml --snapshot out/demo-bucket/.trailwarden/snapshot.json | head -1
	@echo "== trailwarden report --db out/trail.duckdb --config out/demo-bucket/.trailwarden/trailwarden.yaml --snapshot out/demo-bucket/.trailwarden/snapshot.json --source out/demo-bucket --out out/report.html"
	@$(BIN) report --db out/trail.duckdb --config out/demo-bucket/.trailwarden/trailwarden.yaml \
	  --snapshot out/demo-bucket/.trailwarden/snapshot.json --source out/demo-bucket --out out/report.html
	@echo "Open out/report.html in a browser (it needs no network), or see the same as a dashboard:"
	@echo "  $(BIN) serve --db out/trail.duckdb --config out/demo-bucket/.trailwarden/trailwarden.yaml --snapshot out/demo-bucket/.trailwarden/snapshot.json --source out/demo-bucket"
	@echo "  then open http://127.0.0.1:8931/ (Ctrl-C stops it)"

# The command reference in docs/cli, generated from the commands' help
# (TestCLIReference fails when it is stale).
docs:
	$(GO) test ./internal/cli -run TestCLIReference -count=1 -update

# Everything the tests need, installed from the project's own files. Tools
# are cached outside the clone (in GOPATH/bin) and reused when present.
setup:
	@scripts/setup.sh

test: setup vet lint unit fuzz-smoke faults

vet:
	$(GO) vet -tags duckdb_arrow,faults ./...

lint:
	$(GOLANGCI_LINT) run ./...

# The second run covers the build without libdeflate (-tags nolibdeflate):
# its fallback and the packages that use it.
unit:
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -tags duckdb_arrow,nolibdeflate ./internal/inflate/ ./internal/batch/ ./internal/pull/

# Each fuzz target runs briefly on top of its checked-in corpus. The budget
# is a number of executions, not seconds: a time budget that ends during
# input minimization makes go test report a spurious failure.
fuzz-smoke:
	@scripts/fuzz-smoke.sh $(FUZZTIME)

# A longer, nightly-style fuzz run: every fuzz target for FUZZTIME_LONG
# each (a duration, e.g. 10m, or a count of inputs, e.g. 5000000x). It
# prints the number of inputs tried. CI runs fuzz-smoke instead.
FUZZTIME_LONG ?= 10m
fuzz-long:
	@scripts/fuzz-smoke.sh $(FUZZTIME_LONG)

# The fault-injection suite (internal/testkit/faulttest, build tag "faults"): the
# built binary under SIGKILLs, a crashed endpoint, objects changed between
# listing and GET and gzip bombs, against a demo folder and MinIO. It
# prints what it injected and its seed. Settings (CI's defaults):
# FAULTS_SEED (the clock), FAULTS_KILLS (12 per source, folder and MinIO),
# FAULTS_ENDPOINT_KILLS (3), FAULTS_BOMB_MB (1024), FAULTS_DEMO_ACCOUNTS
# (4), FAULTS_DEMO_DAYS (1). FAULTS_PENDING names tests to skip (none by
# default), e.g. while a fix they check is not merged yet.
FAULTS_PENDING ?=
faults: build
	set -o pipefail; TRAILWARDEN_BIN=$(abspath $(BIN)) $(GO) test -tags duckdb_arrow,faults -count=1 -timeout 20m -v \
	  -run '^TestFaults' $(if $(FAULTS_PENDING),-skip '^($(FAULTS_PENDING))$$') ./internal/testkit/faulttest/ | grep -E '^(faults:|ok|FAIL|---|panic)|_test.go'

# Rewrite golden files after an intended output change.
golden:
	$(GO) test ./internal/cli/ ./internal/generator/ ./internal/policy/ -run Golden -update

# Benchmarks with their peers on the same data, in one run: the evaluator
# against the iam-simulate oracle; an audit of a 1,000-account organization
# under every profile; verify against a sequential
# validate-logs-style run and the local disk limit, on a demo organization
# served by MinIO (TRAILWARDEN_BENCH_MB, default 1024 MB of log files);
# every built-in detection rule against one full scan of the 2-million-event
# store (kept in TRAILWARDEN_BENCH_DIR, default the temporary folder).
bench: setup
	$(GO) test -run XXX -bench . -benchmem ./internal/eval/ ./internal/digest/
	$(GO) test -run XXX -bench Audit1000Accounts -benchtime 3x -benchmem ./internal/audit/
	$(GO) test -run 'TestThroughputRatio' -v -count=1 ./internal/testkit/difftest/ | grep -E 'ratio|per second|/s|PASS|FAIL'
	$(GO) test -run XXX -bench VerifyOrganization -benchtime 1x -timeout 60m -v ./internal/verify/
	$(GO) test -run XXX -bench PullVersusReadJSON -benchtime 1x -timeout 60m -v ./internal/query/duckdb/
	set -o pipefail; $(GO) test -run XXX -bench DetectVersusScan -benchtime 1x -timeout 60m -v ./internal/detect/ | grep -E 'ratio|demo:|store:|^ok|FAIL'
	$(GO) test -run XXX -bench Pages -benchtime 5x -timeout 60m ./internal/dashboard/

clean:
	rm -rf bin
