// Package faulttest is trailwarden's fault-injection suite: it runs the
// built binary against a demo organization (a folder and a real MinIO) and
// injects what real operation and real attackers do to it: SIGKILL at
// random points of a pull, an endpoint that crashes or stalls, objects
// deleted, corrupted, emptied or swapped for a gzip bomb between listing
// and GET, and hostile SQL. Each fault is checked against the rule that a
// pull either stores exactly what a clean pull stores or names what it
// could not store: nothing lost, nothing duplicated, nothing unvouched.
//
// The tests are behind the "faults" build tag, so `go test ./...` does not
// run them; `make faults` does (and `make test` runs it). Settings, with
// CI's defaults, are read from the environment (see README, Reliability):
//
//	FAULTS_SEED            seed of every random choice (default: the clock; printed)
//	FAULTS_KILLS           SIGKILLs per pull source, folder and MinIO (12)
//	FAULTS_ENDPOINT_KILLS  crashes of the MinIO endpoint during a pull (3)
//	FAULTS_BOMB_MB         size the gzip bomb inflates to, in MiB (1024)
//	FAULTS_DEMO_ACCOUNTS   accounts of the demo organization (4)
//	FAULTS_DEMO_DAYS       days of the demo organization (1)
//	TRAILWARDEN_BIN        the binary to test (default: built by the suite)
package faulttest
