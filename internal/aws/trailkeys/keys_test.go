package trailkeys

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

var (
	start = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	end   = time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
)

func epoch(t time.Time) json.Number { return json.Number(fmt.Sprint(t.Unix())) }

func TestPublicKeysTwoPages(t *testing.T) {
	isolate(t)
	keys := testKeys()
	f := newFake(t, func(n int, r request) reply {
		if n == 0 {
			return ok(`{"PublicKeyList":[{"Fingerprint":"fp-a","ValidityStartTime":1.7e9,"ValidityEndTime":1.7025e9,"Value":"` +
				wireValue(keys[0]) + `"}],"NextToken":"page-2"}`)
		}
		return ok(`{"PublicKeyList":[{"Fingerprint":"fp-b","ValidityStartTime":1.7025e9,"ValidityEndTime":1.72e9,"Value":"` +
			wireValue(keys[1]) + `"}]}`)
	})
	c := newTestClient(t, f, Options{})
	set, err := c.PublicKeys(context.Background(), "eu-west-2", start, end)
	if err != nil {
		t.Fatal(err)
	}

	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if r.Region != "eu-west-2" {
			t.Errorf("request %d signed for region %q, want eu-west-2", i, r.Region)
		}
		// validate-logs widens the end by two hours (aws-cli #10072).
		if r.StartTime != epoch(start) || r.EndTime != epoch(end.Add(2*time.Hour)) {
			t.Errorf("request %d asks for [%s, %s], want [%d, %d]", i, r.StartTime, r.EndTime,
				start.Unix(), end.Add(2*time.Hour).Unix())
		}
	}
	if reqs[0].NextToken != "" || reqs[1].NextToken != "page-2" {
		t.Errorf("NextTokens %q, %q; want none, then page-2", reqs[0].NextToken, reqs[1].NextToken)
	}

	got := set.Keys()
	if len(got) != 2 {
		t.Fatalf("%d keys, want 2", len(got))
	}
	want := []struct {
		fp       string
		from, to int64
	}{{"fp-a", 1_700_000_000, 1_702_500_000}, {"fp-b", 1_702_500_000, 1_720_000_000}}
	for i, w := range want {
		k := got[i]
		if k.Fingerprint != w.fp || !k.Key.Equal(keys[i]) ||
			!k.ValidFrom.Equal(time.Unix(w.from, 0)) || !k.ValidTo.Equal(time.Unix(w.to, 0)) {
			t.Errorf("key %d = %s [%s, %s], want %s [%s, %s] with test key %d", i, k.Fingerprint,
				k.ValidFrom, k.ValidTo, w.fp, time.Unix(w.from, 0).UTC(), time.Unix(w.to, 0).UTC(), i)
		}
	}
	if _, err := set.Lookup("fp-b", time.Unix(1_710_000_000, 0)); err != nil {
		t.Errorf("lookup fp-b: %v", err)
	}
}

func TestPublicKeysEmpty(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply { return ok(`{"PublicKeyList":[]}`) })
	set, err := newTestClient(t, f, Options{}).PublicKeys(context.Background(), "us-east-1", start, end)
	if err != nil {
		t.Fatal(err)
	}
	if set == nil || len(set.Keys()) != 0 {
		t.Errorf("got %v, want an empty set", set)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestPublicKeysThrottlingRetried(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, _ request) reply {
		if n == 0 {
			return reply{http.StatusBadRequest, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
		}
		return ok(`{"PublicKeyList":[{"Fingerprint":"fp-a","ValidityStartTime":1.7e9,"Value":"` + wireValue(testKeys()[0]) + `"}]}`)
	})
	set, err := newTestClient(t, f, Options{}).PublicKeys(context.Background(), "us-east-1", start, end)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (one throttled, one retried)", n)
	}
	if k := set.Keys(); len(k) != 1 || !k[0].ValidTo.IsZero() {
		t.Errorf("keys %+v, want one with an open end", k)
	}
}

func TestPublicKeysMaxRetries(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply {
		return reply{http.StatusBadRequest, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
	})
	_, err := newTestClient(t, f, Options{MaxRetries: 1}).PublicKeys(context.Background(), "us-east-1", start, end)
	if err == nil || !strings.Contains(err.Error(), "cloudtrail: list public keys in us-east-1: ") ||
		!strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("error %v, want a throttling error naming us-east-1", err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2 with MaxRetries 1", n)
	}
}

func TestPublicKeysAccessDenied(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply {
		return reply{http.StatusBadRequest, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/x ` +
			`is not authorized to perform: cloudtrail:ListPublicKeys because no identity-based policy allows the cloudtrail:ListPublicKeys action"}`}
	})
	// New itself, without the test backoff: access denied is not retried.
	c, err := New(context.Background(), Options{Endpoint: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PublicKeys(context.Background(), "us-east-1", start, end)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "cloudtrail: list public keys in us-east-1: access denied: the credentials need the IAM permission cloudtrail:ListPublicKeys") {
		t.Errorf("error %q does not lead with the missing permission", msg)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Errorf("error %v does not wrap the API error", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestPublicKeysMalformedValue(t *testing.T) {
	isolate(t)
	bad := base64.StdEncoding.EncodeToString([]byte("not a key"))
	f := newFake(t, func(int, request) reply {
		return ok(`{"PublicKeyList":[{"Fingerprint":"fp-good","Value":"` + wireValue(testKeys()[0]) +
			`"},{"Fingerprint":"fp-bad","ValidityStartTime":1.7e9,"ValidityEndTime":1.72e9,"Value":"` + bad + `"}]}`)
	})
	_, err := newTestClient(t, f, Options{}).PublicKeys(context.Background(), "ap-south-1", start, end)
	if err == nil || !strings.HasPrefix(err.Error(), `cloudtrail: list public keys in ap-south-1: key 1 (fingerprint "fp-bad"): decode value: `) {
		t.Errorf("error %v, want one naming the region, entry and fingerprint", err)
	}
}

func TestPublicKeysMissingFields(t *testing.T) {
	isolate(t)
	for body, want := range map[string]string{
		`{"PublicKeyList":[{"Value":"` + wireValue(testKeys()[0]) + `"}]}`: "key 0 has no fingerprint",
		`{"PublicKeyList":[{"Fingerprint":"fp-x"}]}`:                       `key 0 (fingerprint "fp-x") has no value`,
	} {
		f := newFake(t, func(int, request) reply { return ok(body) })
		_, err := newTestClient(t, f, Options{}).PublicKeys(context.Background(), "us-east-1", start, end)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

// TestPublicKeysBase64Value: the CLI base64-decodes Value once more than the
// protocol does, so a Value holding base64 text (here of a PKIX key) must
// work too.
func TestPublicKeysBase64Value(t *testing.T) {
	isolate(t)
	pkix, err := x509.MarshalPKIXPublicKey(testKeys()[1])
	if err != nil {
		t.Fatal(err)
	}
	twice := base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(pkix)))
	f := newFake(t, func(int, request) reply {
		return ok(`{"PublicKeyList":[{"Fingerprint":"fp-b","Value":"` + twice + `"}]}`)
	})
	set, err := newTestClient(t, f, Options{}).PublicKeys(context.Background(), "us-east-1", start, end)
	if err != nil {
		t.Fatal(err)
	}
	if k := set.Keys(); len(k) != 1 || !k[0].Key.Equal(testKeys()[1]) {
		t.Errorf("keys %+v, want test key 1", k)
	}
}

func TestPublicKeysRejectsBadInput(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply { return ok(`{"PublicKeyList":[]}`) })
	c := newTestClient(t, f, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		region     string
		start, end time.Time
		want       string
	}{
		{"evil.example.com/x", start, end, `invalid region "evil.example.com/x"`},
		{"", start, end, `invalid region ""`},
		{"us-east-1", end, start, "is after end"},
		{"us-east-1", time.Time{}, end, "zero start or end"},
	} {
		if _, err := c.PublicKeys(ctx, tc.region, tc.start, tc.end); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PublicKeys(%q, %s, %s) = %v, want %q", tc.region, tc.start, tc.end, err, tc.want)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests for bad input, want 0", n)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{MaxRetries: -1}, "negative MaxRetries"},
		{Options{Endpoint: "ftp://127.0.0.1"}, "scheme must be http or https"},
		{Options{Endpoint: "http://user:secret@127.0.0.1"}, "must not contain credentials"},
		{Options{RoleARN: "my-role"}, "is not an ARN"},
	} {
		_, err := New(context.Background(), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("New(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}
