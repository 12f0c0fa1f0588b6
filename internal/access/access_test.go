package access_test

import (
	"errors"
	"testing"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

func mustParse(t *testing.T, s string) *policy.Document {
	t.Helper()
	d, err := policy.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func principal(t *testing.T, arn string) eval.Principal {
	t.Helper()
	p, err := eval.ParsePrincipal(arn)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A bucket policy that lets account 111111111111 read: a role of that
// account is refused on its own (its identity side says nothing) and
// allowed once its own permissions stand in; an identity policy decides
// alone, with or without the stand-in.
func TestCache_Target(t *testing.T) {
	bucket := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	ident := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	reader := principal(t, "arn:aws:sts::111111111111:assumed-role/reader/s")
	local := principal(t, "arn:aws:sts::222222222222:assumed-role/reader/s")
	outsider, err := access.Outsider("aws", "s")
	if err != nil {
		t.Fatal(err)
	}
	req := func(p eval.Principal) eval.Request {
		return eval.Request{Principal: p, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: "222222222222"}
	}
	cases := []struct {
		name   string
		target access.Target
		doc    *policy.Document
		caller bool
		p      eval.Principal
		want   eval.Decision
	}{
		{"cross-account reader, resource side only", access.Bucket, bucket, false, reader, eval.ImplicitlyDenied},
		{"cross-account reader, own permissions stand in", access.Bucket, bucket, true, reader, eval.Allowed},
		{"outsider, own permissions stand in", access.Bucket, bucket, true, outsider, eval.ImplicitlyDenied},
		{"anonymous", access.Bucket, bucket, true, access.Anonymous(), eval.ImplicitlyDenied},
		{"no bucket policy", access.Bucket, nil, true, reader, eval.ImplicitlyDenied},
		{"identity policy", access.Identity, ident, false, local, eval.Allowed},
		{"identity policy, stand-in adds nothing", access.Identity, ident, true, outsider, eval.ImplicitlyDenied},
		{"no identity policy", access.Identity, nil, true, local, eval.ImplicitlyDenied},
	}
	c := access.NewCache()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := c.Target(tc.target, tc.doc, tc.caller)
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.Evaluate(req(tc.p)).Decision; got != tc.want {
				t.Errorf("decision = %s, want %s", got, tc.want)
			}
		})
	}
	// One compile per distinct (target, document, caller): the outsider
	// and anonymous cases reuse the second set.
	const distinct = 6
	if got := c.Compiles(); got != distinct {
		t.Errorf("compiles = %d, want one per distinct (target, document, caller): %d", got, distinct)
	}
	// Asking again compiles nothing.
	for _, tc := range cases {
		if _, err := c.Target(tc.target, tc.doc, tc.caller); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Compiles(); got != distinct {
		t.Errorf("compiles after asking again = %d, want %d", got, distinct)
	}
}

// A set that does not compile gives its error every time, compiled once.
func TestCache_Error(t *testing.T) {
	c := access.NewCache()
	builds := 0
	build := func() (eval.Policies, error) {
		builds++
		return eval.Policies{ResourceKind: "nonsense"}, nil
	}
	_, err1 := c.Evaluator("x", build)
	_, err2 := c.Evaluator("x", build)
	if err1 == nil || !errors.Is(err2, err1) {
		t.Fatalf("errors = %v, %v; want the same compile error twice", err1, err2)
	}
	if builds != 1 {
		t.Errorf("builds = %d, want 1", builds)
	}
}

func TestSet(t *testing.T) {
	doc := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	for _, tc := range []struct {
		target   access.Target
		kind     eval.ResourceKind
		resource bool
	}{
		{access.Bucket, "", true}, {access.Key, eval.KMSKey, true}, {access.Trust, eval.RoleTrust, true}, {access.Identity, "", false},
	} {
		ps, err := access.Set(tc.target, doc)
		if err != nil {
			t.Fatal(err)
		}
		if (ps.Resource != nil) != tc.resource || ps.ResourceKind != tc.kind {
			t.Errorf("%s: resource %v kind %q, want resource %v kind %q", tc.target, ps.Resource != nil, ps.ResourceKind, tc.resource, tc.kind)
		}
		if name := access.Name(tc.target); (tc.resource && ps.Resource.Name != name) || (!tc.resource && ps.Identity[0].Name != name) {
			t.Errorf("%s: policy not named %q", tc.target, name)
		}
	}
	if _, err := access.Set("other", doc); err == nil {
		t.Error("Set of an unknown target: no error")
	}
}

func TestCrossAccount(t *testing.T) {
	for _, tc := range []struct {
		p    eval.Principal
		want bool
	}{
		{principal(t, "arn:aws:sts::111111111111:assumed-role/r/s"), true},
		{principal(t, "arn:aws:sts::222222222222:assumed-role/r/s"), false},
		{access.Anonymous(), false},
		{eval.Principal{Kind: eval.KindService, Service: "cloudtrail.amazonaws.com"}, false},
	} {
		if got := access.CrossAccount(tc.p, "222222222222"); got != tc.want {
			t.Errorf("CrossAccount(%+v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
