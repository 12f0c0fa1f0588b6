package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const applyPrompt = "Type yes to continue"

// TestApplyWithStdinFromDevNull: /dev/null is a character device but no
// terminal (cron, ssh -n, CI): apply without --yes is the dry run its help
// promises, not a prompt that reads end-of-file and fails.
func TestApplyWithStdinFromDevNull(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = devNull.Close() }()
	var out, errb bytes.Buffer
	code := Execute(context.Background(), []string{"apply", "--config", planConfig, "--snapshot", freshSnap}, devNull, &out, &errb)
	if code != ExitOK || !strings.Contains(out.String(), "Dry run: nothing changed.") || strings.Contains(out.String(), applyPrompt) {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if isTerminal(devNull) {
		t.Error("/dev/null taken for a terminal")
	}
}

// runAtTerminal runs a command as if a person were at the terminal,
// typing answer.
func runAtTerminal(answer string, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(answer), stdout: &out, stderr: &errb, tty: func() bool { return true }}
	code = execute(context.Background(), a, args)
	return out.String(), errb.String(), code
}

// TestApplyChecksBeforeAsking: at a terminal, apply reads the live state
// and checks the credentials before it asks for "yes": a stale snapshot
// or missing credentials stop it with no question asked, and a run that
// can start asks, and applies on "yes".
func TestApplyChecksBeforeAsking(t *testing.T) {
	t.Run("no credentials", func(t *testing.T) {
		end := noCredentials(t)
		stdout, stderr, code := runAtTerminal("yes\n", "apply", "--config", planConfig, "--snapshot", freshSnap, "--endpoint-url", end)
		if code != ExitBadInput || strings.Contains(stdout, applyPrompt) || !strings.Contains(stderr, credentialHint) {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
	w, srv, live := applyWorld(t)
	dir := t.TempDir()
	cfg, err := os.ReadFile(planConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "trailwarden.yaml")
	cfg = append(cfg, []byte("aws:\n  access_role: OrganizationAccountAccessRole\n  backup_dir: "+filepath.Join(dir, "backups")+"\n")...)
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("stale snapshot", func(t *testing.T) {
		defer w.SetBucketPolicy("acme-org-cloudtrail", live)
		w.SetBucketPolicy("acme-org-cloudtrail", `{"Version":"2012-10-17","Statement":[{"Sid":"Changed","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::acme-org-cloudtrail"}]}`)
		stdout, stderr, code := runAtTerminal("yes\n", "apply", "--config", cfgPath, "--snapshot", freshSnap, "--endpoint-url", srv.URL)
		if code != ExitFailure || strings.Contains(stdout, applyPrompt) || !strings.Contains(stderr, "the live configuration changed since") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("asks then applies", func(t *testing.T) {
		stdout, stderr, code := runAtTerminal("no\n", "apply", "--config", cfgPath, "--snapshot", freshSnap, "--endpoint-url", srv.URL)
		if code != ExitFailure || !strings.Contains(stdout, applyPrompt) || !strings.Contains(stdout, "Cancelled: nothing changed.") {
			t.Fatalf("answer no: exit %d\n%s%s", code, stdout, stderr)
		}
		stdout, stderr, code = runAtTerminal("yes\n", "apply", "--config", cfgPath, "--snapshot", freshSnap, "--endpoint-url", srv.URL)
		if code != ExitOK || !strings.Contains(stdout, applyPrompt) || !strings.Contains(stdout, "Applied 10 steps.") {
			t.Fatalf("answer yes: exit %d\n%s%s", code, stdout, stderr)
		}
	})
}
