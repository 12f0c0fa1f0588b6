package merge_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/merge"
	"github.com/trailwarden/trailwarden/internal/policy"
)

func baseConfig(accounts ...string) *config.Config {
	c := config.Default()
	c.LogArchiveAccount = "222222222222"
	c.SourceAccounts = accounts
	c.Bucket = "acme-org-cloudtrail"
	c.HomeRegion = "us-east-1"
	c.Trail.Name = "audit-trail"
	c.Readers.Roles = []string{"arn:aws:iam::333333333333:role/log-reader"}
	return &c
}

func existing(t *testing.T) *policy.Document {
	t.Helper()
	data, err := os.ReadFile("testdata/existing-bucket.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func sids(d *policy.Document) []string {
	out := make([]string, len(d.Statements))
	for i, s := range d.Statements {
		out[i] = s.Sid
	}
	return out
}

func changes(r merge.Result) map[string]string {
	out := map[string]string{}
	for _, c := range r.Changes {
		out[c.Sid] = c.Kind
	}
	return out
}

func TestMergeKeepsForeignStatements(t *testing.T) {
	old := existing(t)
	c := baseConfig("333333333333")
	out, err := generator.Bucket(c, old)
	if err != nil {
		t.Fatal(err)
	}
	got := sids(out.Doc)
	// Foreign statements keep their order and content; the owned statement
	// that was there is updated in place; the obsolete one is removed; the
	// AMS statement is foreign under the baseline profile and stays.
	want := []string{"AllowConfigDelivery", "TrailwardenCloudTrailWrite333333333333", "", "DONOTDELETE-AMS-ALLOWLISTBUCKET",
		"TrailwardenCloudTrailAclCheck", "TrailwardenDenyInsecureTransport", "TrailwardenReaderBucketLocation", "TrailwardenReaderListLogs", "TrailwardenReaderGetLogs"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("statement order\n got %q\nwant %q", got, want)
	}
	for _, i := range []int{0, 2, 3} {
		orig := findForeign(old, out.Doc.Statements[i])
		if orig == nil {
			t.Fatalf("foreign statement %d changed: %+v", i, out.Doc.Statements[i])
		}
	}
	if out.Foreign != 3 {
		t.Errorf("foreign = %d, want 3", out.Foreign)
	}
	if out.Doc.ID != "LogArchivePolicy" {
		t.Errorf("policy Id not kept: %q", out.Doc.ID)
	}
	ch := map[string]string{}
	for _, c := range out.Changes {
		ch[c.Sid] = c.Kind
	}
	if ch["TrailwardenCloudTrailWrite333333333333"] != merge.Updated || ch["TrailwardenObsoleteStatement"] != merge.Removed ||
		ch["TrailwardenCloudTrailAclCheck"] != merge.Added {
		t.Errorf("changes = %v", ch)
	}
}

func findForeign(old *policy.Document, s policy.Statement) *policy.Statement {
	for i := range old.Statements {
		if old.Statements[i].Sid == s.Sid && policy.EqualStatement(old.Statements[i], s) {
			return &old.Statements[i]
		}
	}
	return nil
}

func TestMergeIsIdempotent(t *testing.T) {
	c := baseConfig("333333333333", "444444444444")
	first, err := generator.Bucket(c, existing(t))
	if err != nil {
		t.Fatal(err)
	}
	second, err := generator.Bucket(c, first.Doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(policy.Canonical(first.Doc), policy.Canonical(second.Doc)) {
		t.Fatalf("second merge changed the bytes:\n%s\n---\n%s", policy.Canonical(first.Doc), policy.Canonical(second.Doc))
	}
	for _, ch := range second.Changes {
		if ch.Kind != merge.Unchanged {
			t.Errorf("second merge reports %s %s", ch.Sid, ch.Kind)
		}
	}
}

func TestAddAndRemoveAccountChangeOnlyWhatTheyMust(t *testing.T) {
	two, err := generator.Bucket(baseConfig("333333333333", "444444444444"), existing(t))
	if err != nil {
		t.Fatal(err)
	}
	three, err := generator.Bucket(baseConfig("333333333333", "444444444444", "555555555555"), two.Doc)
	if err != nil {
		t.Fatal(err)
	}
	ch := changesOf(three.Changes)
	want := map[string]string{
		"TrailwardenCloudTrailAclCheck":          merge.Updated,
		"TrailwardenCloudTrailWrite555555555555": merge.Added,
	}
	assertOnly(t, "add", ch, want)
	back, err := generator.Bucket(baseConfig("333333333333", "444444444444"), three.Doc)
	if err != nil {
		t.Fatal(err)
	}
	assertOnly(t, "remove", changesOf(back.Changes), map[string]string{
		"TrailwardenCloudTrailAclCheck":          merge.Updated,
		"TrailwardenCloudTrailWrite555555555555": merge.Removed,
	})
	if !bytes.Equal(policy.Canonical(back.Doc), policy.Canonical(two.Doc)) {
		t.Fatalf("adding then removing an account is not a round trip")
	}
}

func changesOf(cs []merge.Change) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		out[c.Sid] = c.Kind
	}
	return out
}

func assertOnly(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for sid, kind := range got {
		if w, ok := want[sid]; ok {
			if kind != w {
				t.Errorf("%s: %s is %s, want %s", what, sid, kind, w)
			}
		} else if kind != merge.Unchanged {
			t.Errorf("%s: %s is %s, want unchanged", what, sid, kind)
		}
	}
	for sid := range want {
		if _, ok := got[sid]; !ok {
			t.Errorf("%s: no change reported for %s", what, sid)
		}
	}
}

func TestMergeWithoutExisting(t *testing.T) {
	gen := []policy.Statement{{Sid: "TrailwardenA", Effect: policy.Allow, Action: []string{"s3:GetObject"}, Resource: []string{"*"}}}
	r := merge.Merge(nil, gen, func(sid string) bool { return strings.HasPrefix(sid, "Trailwarden") })
	if len(r.Doc.Statements) != 1 || r.Doc.Version != policy.Version2012 || changes(r)["TrailwardenA"] != merge.Added {
		t.Fatalf("unexpected result %+v", r)
	}
}

func TestMergeNotesVariablesUnderOldVersion(t *testing.T) {
	old, err := policy.Parse([]byte(`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := merge.Merge(old, nil, func(string) bool { return false })
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "policy variable") {
		t.Fatalf("notes = %q", r.Notes)
	}
}
