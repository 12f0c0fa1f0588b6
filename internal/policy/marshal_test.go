package policy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/policy"
)

var update = flag.Bool("update", false, "rewrite golden files")

func deepEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

// checkRoundTrip asserts the canonical form re-parses to an Equal document
// and is a fixed point.
func checkRoundTrip(t testing.TB, doc *policy.Document) {
	t.Helper()
	canon := policy.Canonical(doc)
	again, err := policy.Parse(canon)
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, canon)
	}
	if !policy.Equal(doc, again) {
		t.Fatalf("re-parsed canonical form is not Equal:\n%s", canon)
	}
	if canon2 := policy.Canonical(again); !bytes.Equal(canon, canon2) {
		t.Fatalf("canonical form is not a fixed point:\n%s\nthen\n%s", canon, canon2)
	}
	compact := policy.Compact(doc)
	fromCompact, err := policy.Parse(compact)
	if err != nil {
		t.Fatalf("compact form does not parse: %v\n%s", err, compact)
	}
	if !bytes.Equal(policy.Canonical(fromCompact), canon) {
		t.Fatalf("compact and canonical forms differ:\n%s\n%s", compact, canon)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, c := range loadParseCases(t) {
		if c.Error != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			doc, err := policy.Parse(c.input(t))
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, doc)
		})
	}
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/canonical/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := policy.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			got := policy.Canonical(doc)
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("canonical form differs from %s (run with -update):\n%s", golden, got)
			}
			checkRoundTrip(t, doc)
		})
	}
}

func TestCompact(t *testing.T) {
	doc := &policy.Document{
		Version: policy.Version2012,
		Statements: []policy.Statement{{
			Effect:    policy.Allow,
			Principal: &policy.Principal{Service: []string{"b.amazonaws.com", "a.amazonaws.com"}, AWS: []string{"*"}},
			Action:    []string{"s3:PutObject"},
			Resource:  []string{"arn:aws:s3:::b/<x>&y/*"},
			Condition: []policy.Condition{
				{Operator: policy.Operator{Base: "StringLike"}, Key: "b", Values: []string{"1"}},
				{Operator: policy.Operator{Base: "StringEquals"}, Key: "b", Values: []string{"2", "1"}},
				{Operator: policy.Operator{Base: "StringEquals"}, Key: "A", Values: []string{}},
				{Operator: policy.Operator{Set: policy.ForAnyValue, Base: "StringEquals"}, Key: "a", Values: []string{"\n\"\\"}},
			},
		}},
	}
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"AWS":"*","Service":["b.amazonaws.com","a.amazonaws.com"]},` +
		`"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/<x>&y/*",` +
		`"Condition":{"ForAnyValue:StringEquals":{"a":"\n\"\\"},"StringEquals":{"A":[],"b":["2","1"]},"StringLike":{"b":"1"}}}]}`
	if got := string(policy.Compact(doc)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	b, err := doc.MarshalJSON()
	if err != nil || string(b) != want {
		t.Fatalf("MarshalJSON = %s, %v", b, err)
	}
	if got := string(policy.Canonical(doc)); !strings.HasSuffix(got, "}\n") || !strings.Contains(got, "\n  \"Statement\": [\n") {
		t.Fatalf("Canonical not indented:\n%s", got)
	}
	checkRoundTrip(t, doc)
}

func TestStatementMarshalJSON(t *testing.T) {
	st := policy.Statement{Sid: "A", Effect: policy.Deny, Principal: &policy.Principal{Wildcard: true},
		NotAction: []string{"iam:*", "sts:*"}, NotResource: []string{"*"}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Sid":"A","Effect":"Deny","Principal":"*","NotAction":["iam:*","sts:*"],"NotResource":"*"}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}

func TestJSONInterop(t *testing.T) {
	type wrapper struct {
		Name   string
		Policy *policy.Document
		Value  policy.Document
	}
	in := `{"Name":"n","Policy":{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}},"Value":null}`
	var w wrapper
	if err := json.Unmarshal([]byte(in), &w); err != nil {
		t.Fatal(err)
	}
	if w.Policy == nil || len(w.Policy.Statements) != 1 || w.Policy.Statements[0].Action[0] != "s3:GetObject" {
		t.Fatalf("got %+v", w.Policy)
	}
	out, err := json.Marshal(&w)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Name":"n","Policy":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]},` +
		`"Value":{"Statement":[]}}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}

	bad := `{"Policy":{"Statement":{"Effect":"allow","Action":"*"}}}`
	err = json.Unmarshal([]byte(bad), &w)
	var pe *policy.ParseError
	if !errors.As(err, &pe) || pe.Path != "$.Statement.Effect" {
		t.Fatalf("err = %v", err)
	}
}

func TestCanonicalNil(t *testing.T) {
	if got := string(policy.Compact(nil)); got != "null" {
		t.Fatalf("Compact(nil) = %q", got)
	}
}
