package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

// proveDir makes a temporary working directory holding the org config as
// trailwarden.yaml (with extra appended) and the policies of
// testdata/input/prove, and changes into it: reproduce lines name files
// relative to where the user runs trailwarden.
func proveDir(t *testing.T, extra string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join("testdata", "input", "org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trailwarden.yaml"), append(cfg, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	inputs, _ := filepath.Glob(filepath.Join("testdata", "input", "prove", "*.json"))
	inputs = append(inputs, filepath.Join("testdata", "input", "trust-root.json"))
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(in)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
}

// shellWord is one word of a shell line; op marks an unquoted ; or |.
type shellWord struct {
	text string
	op   bool
}

// shellWords splits a line as a POSIX shell would for the subset that
// reproduce lines use: words, single quotes, and ; and | between commands.
func shellWords(t *testing.T, line string) []shellWord {
	t.Helper()
	var out []shellWord
	var cur strings.Builder
	inWord, quoted, escaped := false, false, false
	flush := func() {
		if inWord {
			out = append(out, shellWord{text: cur.String()})
			cur.Reset()
			inWord = false
		}
	}
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case !quoted && r == '\\':
			escaped, inWord = true, true
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			flush()
		case r == ';' || r == '|':
			flush()
			out = append(out, shellWord{text: string(r), op: true})
		case strings.ContainsRune("\"$`()<>&*?#~", r):
			t.Fatalf("reproduce line has an unquoted %q, which a shell would interpret: %s", r, line)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %s", line)
	}
	flush()
	return out
}

// runShell runs a reproduce line in-process the way sh would run it:
// `a; b` runs both, `echo X | trailwarden ...` feeds X to stdin. It
// returns the output and exit code of the last command.
func runShell(t *testing.T, line string) (stdout string, code int) {
	t.Helper()
	var cmd []string
	var piped *string
	runCmd := func() {
		if len(cmd) == 0 {
			t.Fatalf("empty command in %s", line)
		}
		in := ""
		if piped != nil {
			in, piped = *piped, nil
		}
		switch cmd[0] {
		case "echo":
			stdout, code = strings.Join(cmd[1:], " ")+"\n", 0
		case "trailwarden":
			var out, errb bytes.Buffer
			code = Execute(context.Background(), cmd[1:], strings.NewReader(in), &out, &errb)
			stdout = out.String()
			if code == ExitBadInput {
				t.Fatalf("%s: bad input: %s", strings.Join(cmd, " "), errb.String())
			}
		default:
			t.Fatalf("reproduce line runs %q: %s", cmd[0], line)
		}
		cmd = nil
	}
	for _, w := range shellWords(t, line) {
		switch {
		case w.op && w.text == "|":
			runCmd()
			out := stdout
			piped = &out
		case w.op:
			runCmd()
		default:
			cmd = append(cmd, w.text)
		}
	}
	runCmd()
	return stdout, code
}

// checkReproduces runs a finding's reproduce line and checks it gives the
// finding's decision: allowed (exit 0) for an unintended grant, denied
// (exit 1) for a missing one.
func checkReproduces(t *testing.T, f proof.Finding, file string) {
	t.Helper()
	if f.Reproduce == "" || strings.Contains(f.Reproduce, "<") {
		t.Fatalf("finding %s %s has no runnable reproduce line: %q", f.Principal, f.Request.Action, f.Reproduce)
	}
	if !strings.Contains(f.Reproduce, " "+file) {
		t.Errorf("reproduce line does not name %s: %s", file, f.Reproduce)
	}
	stdout, code := runShell(t, f.Reproduce)
	want, verdict := 0, "ALLOWED"
	if f.Kind == proof.KindMissing {
		want, verdict = 1, "DENIED"
	}
	if code != want || !strings.HasPrefix(stdout, verdict) {
		t.Errorf("%s (%s %s on %s): reproduce exits %d, want %d (%s):\n%s\n%s", f.Kind, f.Principal, f.Request.Action, f.Request.Resource,
			code, want, verdict, f.Reproduce, stdout)
	}
}

func proveJSON(t *testing.T, args ...string) ([]provedPolicy, int) {
	t.Helper()
	stdout, stderr, code := run(append([]string{"policy", "prove", "--config", "trailwarden.yaml", "--format", "json"}, args...)...)
	var out []provedPolicy
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("prove %v: exit %d, %v\n%s%s", args, code, err, stdout, stderr)
	}
	return out, code
}

// TestPolicyProve_ForeignGrantIsAFinding is the case: a foreign
// statement letting 999999999999 read every object, merged by policy
// bucket --existing, then proved. The merge warns and exits 1; the proof
// says NOT PROVEN, exits 1, names the statement, and every reproduce line
// runs as printed against the real file.
func TestPolicyProve_ForeignGrantIsAFinding(t *testing.T) {
	proveDir(t, "")
	_, stderr, code := run("policy", "bucket", "--config", "trailwarden.yaml", "--existing", "partner-read.json", "-o", "merged.json")
	if code != ExitFailure {
		t.Fatalf("merge keeping an over-broad foreign statement exits %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{"warning: statement 0 of merged.json (PartnerRead), at line 4 of partner-read.json grants ",
		`list "PartnerRead" in accepted_foreign_sids.bucket_policy of trailwarden.yaml`, "reproduce: echo "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("merge stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat("merged.json"); err != nil {
		t.Fatalf("the merged policy was not written: %v", err)
	}
	line := reproduceLineOf(t, stderr)
	if !strings.Contains(line, "--resource-policy merged.json") {
		t.Errorf("merge warning does not replay against merged.json: %s", line)
	}
	if stdout, code := runShell(t, line); code != 0 || !strings.HasPrefix(stdout, "ALLOWED") {
		t.Errorf("merge warning's reproduce line exits %d:\n%s", code, stdout)
	}

	stdout, _, code := run("policy", "prove", "--config", "trailwarden.yaml", "--bucket-policy", "merged.json")
	if code != ExitFailure {
		t.Fatalf("prove exits %d, want 1", code)
	}
	for _, want := range []string{"bucket policy (merged.json): NOT PROVEN", "statement 0 (PartnerRead) at line 4 of merged.json: ",
		"UNINTENDED-GRANT (blocking: foreign statement, not accepted)", "--resource-policy merged.json"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("prove output lacks %q", want)
		}
	}
	if strings.Contains(stdout, "<policy>") {
		t.Error("prove output still has a <policy> placeholder")
	}

	reports, code := proveJSON(t, "--bucket-policy", "merged.json")
	if code != ExitFailure || reports[0].Report.Proven {
		t.Fatalf("JSON prove: exit %d, proven %v", code, reports[0].Report.Proven)
	}
	rep := reports[0].Report
	if len(rep.Unintended) != 1 || rep.Unintended[0].Sid != "PartnerRead" || rep.Unintended[0].Statement != 0 {
		t.Fatalf("unintended statements %+v", rep.Unintended)
	}
	for _, f := range rep.Findings {
		checkReproduces(t, f, "merged.json")
	}
}

// TestPolicyProve_ReproduceLinesReplayTheDecision proves hand-written
// policies of every kind, with findings of both kinds, and runs every
// reproduce line: each must give the decision the proof saw.
func TestPolicyProve_ReproduceLinesReplayTheDecision(t *testing.T) {
	proveDir(t, "")
	if err := os.Rename("unnamed-read.json", "my policy.json"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, flag, file string
		target           proof.Target
	}{
		{"BucketForeignOnly", "--bucket-policy", "partner-read.json", proof.TargetBucket},
		{"BucketQuotedFileAndContext", "--bucket-policy", "my policy.json", proof.TargetBucket},
		{"KeyPolicy", "--key-policy", "key-partner.json", proof.TargetKey},
		{"TrustPolicy", "--trust", "trust-root.json", proof.TargetTrust},
		{"ReaderAccess", "--access", "access-wide.json", proof.TargetAccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports, code := proveJSON(t, tt.flag, tt.file)
			if code != ExitFailure {
				t.Fatalf("exit %d, want 1", code)
			}
			kinds := map[string]int{}
			for _, r := range reports {
				if r.Report.Target != tt.target {
					continue
				}
				if r.Source != tt.file {
					t.Errorf("source %q", r.Source)
				}
				for _, f := range r.Report.Findings {
					kinds[f.Kind]++
					checkReproduces(t, f, shellQuote(tt.file))
				}
			}
			if kinds[proof.KindUnintended] == 0 {
				t.Errorf("no unintended grant found (%v)", kinds)
			}
		})
	}
}

// TestPolicyProve_AcceptedForeignSid: with the Sid accepted in the config
// the same merge and proof exit 0, and the grants are reported as
// accepted, never dropped; an accepted Sid no statement has is stale.
func TestPolicyProve_AcceptedForeignSid(t *testing.T) {
	proveDir(t, "accepted_foreign_sids:\n  bucket_policy: [PartnerRead, RetiredPartner]\n")
	_, stderr, code := run("policy", "bucket", "--config", "trailwarden.yaml", "--existing", "partner-read.json", "-o", "merged.json")
	if code != 0 {
		t.Fatalf("merge with an accepted statement exits %d:\n%s", code, stderr)
	}
	for _, want := range []string{"note: statement 0 of merged.json (PartnerRead), at line 4 of partner-read.json grants ",
		"accepted in accepted_foreign_sids.bucket_policy", `lists "RetiredPartner", but no statement`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("merge stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "warning:") {
		t.Errorf("accepted statement still warned about:\n%s", stderr)
	}

	// --wide: the lines checked below are longer than 80 columns.
	stdout, _, code := run("policy", "prove", "--config", "trailwarden.yaml", "--bucket-policy", "merged.json", "--wide")
	if code != 0 {
		t.Fatalf("prove exits %d, want 0:\n%s", code, stdout)
	}
	for _, want := range []string{"bucket policy (merged.json): PROVEN with accepted exceptions", " accepted\n",
		"UNINTENDED-GRANT (accepted: foreign statement listed in accepted_foreign_sids.bucket_policy)",
		`lists "RetiredPartner", but no statement of this policy has that Sid`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("prove output lacks %q", want)
		}
	}
	reports, _ := proveJSON(t, "--bucket-policy", "merged.json")
	rep := reports[0].Report
	if !rep.Proven || len(rep.Findings) == 0 || rep.AcceptedCount() != len(rep.Findings) {
		t.Fatalf("proven %v, %d findings, %d accepted", rep.Proven, len(rep.Findings), rep.AcceptedCount())
	}
	if len(rep.StaleAccepted) != 1 || rep.StaleAccepted[0] != "RetiredPartner" {
		t.Errorf("stale %v", rep.StaleAccepted)
	}
}

// TestPolicyProve_UnnamedForeignStatement: a foreign statement without a
// Sid is named by its index and the user is told to give it a Sid.
func TestPolicyProve_UnnamedForeignStatement(t *testing.T) {
	proveDir(t, "accepted_foreign_sids:\n  bucket_policy: [AllowConfigDelivery]\n")
	_, stderr, code := run("policy", "bucket", "--config", "trailwarden.yaml", "--existing", "unnamed-read.json")
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"warning: statement 1 of the merged policy, at line 11 of unnamed-read.json grants ",
		"without a Sid, so it cannot be accepted by Sid", "give it a Sid and list that Sid in accepted_foreign_sids.bucket_policy"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	stdout, _, code := run("policy", "prove", "--config", "trailwarden.yaml", "--bucket-policy", "unnamed-read.json")
	if code != ExitFailure || !strings.Contains(stdout, "by statement 1\n") || !strings.Contains(stdout, "statement 1 at line 11 of unnamed-read.json: ") {
		t.Errorf("prove: exit %d, output does not name statement 1", code)
	}
}

// TestPolicyBucket_JSONWarnings: --format json carries the warning, with
// the statement and a reproduce line that writes the merged policy first.
func TestPolicyBucket_JSONWarnings(t *testing.T) {
	proveDir(t, "")
	stdout, stderr, code := run("policy", "bucket", "--config", "trailwarden.yaml", "--existing", "partner-read.json", "--format", "json")
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr)
	}
	var got struct {
		Policy   json.RawMessage `json:"policy"`
		Warnings []policyWarning `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got.Policy) == 0 {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(got.Warnings) != 1 {
		t.Fatalf("warnings %+v, want one for PartnerRead", got.Warnings)
	}
	w := got.Warnings[0]
	if w.Kind != proof.KindUnintended || w.Statement == nil || *w.Statement != 0 || w.Sid != "PartnerRead" || w.Owned || w.Findings == 0 {
		t.Fatalf("warning %+v", w)
	}
	const produce = "trailwarden policy bucket --config trailwarden.yaml --existing partner-read.json -o trailwarden-bucket.json; "
	if !strings.HasPrefix(w.Reproduce, produce) {
		t.Fatalf("reproduce does not write the merged policy first: %s", w.Reproduce)
	}
	if out, code := runShell(t, w.Reproduce); code != 0 || !strings.HasPrefix(out, "ALLOWED") {
		t.Fatalf("reproduce exits %d:\n%s", code, out)
	}
}

// reproduceLineOf returns the first reproduce line of a command's output.
func reproduceLineOf(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if _, after, ok := strings.Cut(l, "reproduce: "); ok {
			return after
		}
	}
	t.Fatalf("no reproduce line in:\n%s", out)
	return ""
}

// TestRenderPolicy_AllowUnprovenStillFails: --allow-unproven prints the
// policy, but the findings are warnings and the exit status is 1.
func TestRenderPolicy_AllowUnprovenStillFails(t *testing.T) {
	f := proof.Finding{Kind: proof.KindUnintended, Principal: "anonymous", Request: eval.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"},
		Grants: []proof.Grant{{Statement: 0, Sid: "TrailwardenX", Owned: true}}, Statements: []string{"TrailwardenX"}, Reproduce: "trailwarden can ..."}
	rep := &proof.Report{Target: proof.TargetBucket, Findings: []proof.Finding{f},
		Unintended: []proof.StatementGrants{{Grant: f.Grants[0], Findings: 1}}}
	res := &generator.Output{Kind: "bucket policy", Doc: &policy.Document{Version: policy.Version2012}}
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	err := a.renderPolicy(policyOpts{config: "trailwarden.yaml", format: "text", allowUnproven: true}, nil, generator.Judge(res, rep), policySource{file: "p.json"})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitFailure {
		t.Fatalf("err %v, want exit 1", err)
	}
	if out.Len() == 0 || !strings.Contains(errb.String(), "warning: statement 0 (TrailwardenX) grants 1 request(s)") {
		t.Fatalf("stdout %q, stderr:\n%s", out.String(), errb.String())
	}
}

// TestPolicyProve_JudgementCallShown: a reader grant that rests on a case
// AWS's documentation does not settle (an Allow whose NotPrincipal names
// only the readers' account) is not proof, and the text says which
// judgement call the decision rests on, as `can` does (issue 13 item 11).
func TestPolicyProve_JudgementCallShown(t *testing.T) {
	proveDir(t, "")
	const bucket = "arn:aws:s3:::acme-org-cloudtrail"
	doc := `{"Version":"2012-10-17","Statement":[
{"Sid":"LegacyReaders","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444444444444:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["` + bucket + `","` + bucket + `/*"]}]}`
	if err := os.WriteFile("judged.json", []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := run("policy", "prove", "--config", "trailwarden.yaml", "--bucket-policy", "judged.json")
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailure, out)
	}
	if !strings.Contains(out, "UNPROVEN-GRANT") || !strings.Contains(out, "judgement call: ") || !strings.Contains(out, "(notprincipal-partial-chain)") {
		t.Fatalf("the text does not show the judgement call an unproven grant rests on:\n%s", out)
	}
}
