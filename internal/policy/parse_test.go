package policy_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/readlimit"
)

// parseCase is one entry of testdata/parse_cases.json. PolicyBase64 is for
// inputs a JSON string cannot hold (invalid UTF-8).
type parseCase struct {
	Name         string `json:"name"`
	Policy       string `json:"policy"`
	PolicyBase64 string `json:"policy_base64,omitempty"`
	Error        string `json:"error"`
	Line         int    `json:"line"`
	Column       int    `json:"column"`
}

func (c parseCase) input(t testing.TB) []byte {
	if c.PolicyBase64 == "" {
		return []byte(c.Policy)
	}
	b, err := base64.StdEncoding.DecodeString(c.PolicyBase64)
	if err != nil {
		t.Fatalf("%s: bad policy_base64: %v", c.Name, err)
	}
	return b
}

func loadParseCases(t testing.TB) []parseCase {
	data, err := os.ReadFile("testdata/parse_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []parseCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestParseCases(t *testing.T) {
	cases := loadParseCases(t)
	if len(cases) < 40 {
		t.Fatalf("only %d parse cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			doc, err := policy.Parse(c.input(t))
			if c.Error == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(doc.Statements) == 0 {
					t.Fatal("no statements")
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.Error)
			}
			if !strings.Contains(err.Error(), c.Error) {
				t.Errorf("error %q does not contain %q", err, c.Error)
			}
			var pe *policy.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *policy.ParseError", err)
			}
			if c.Line != 0 && (pe.Pos.Line != c.Line || pe.Pos.Column != c.Column) {
				t.Errorf("position %d:%d, want %d:%d (%v)", pe.Pos.Line, pe.Pos.Column, c.Line, c.Column, err)
			}
		})
	}
}

func TestParseOversized(t *testing.T) {
	stmt := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},`
	var b bytes.Buffer
	b.WriteString(`{"Statement":[`)
	for b.Len() <= policy.MaxInputSize {
		b.WriteString(stmt)
	}
	b.WriteString(stmt[:len(stmt)-1] + `]}`)
	_, err := policy.Parse(b.Bytes())
	if want := fmt.Sprintf("$: policy is %s bytes, over the 1 MiB limit", readlimit.Bytes(int64(b.Len()))); err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}

	// Just under the limit is parsed normally.
	b.Reset()
	b.WriteString(`{"Statement":[`)
	for b.Len()+len(stmt)+2 <= policy.MaxInputSize {
		b.WriteString(stmt)
	}
	b.Truncate(b.Len() - 1)
	b.WriteString(`]}`)
	doc, err := policy.Parse(b.Bytes())
	if err != nil {
		t.Fatalf("%d bytes: %v", b.Len(), err)
	}
	if len(doc.Statements) < 10000 {
		t.Fatalf("only %d statements", len(doc.Statements))
	}
}

// spaces is n bytes of blanks, read as a stream (no Seek).
type spaces struct{ n int64 }

func (s *spaces) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), s.n)
	for i := range p[:k] {
		p[i] = ' '
	}
	s.n -= k
	return int(k), nil
}

// Read reports an oversized policy's real size, not the limit plus one,
// for a stream (counted) and a file (its length).
func TestReadReportsTheRealSize(t *testing.T) {
	const size = 52428800
	body := func() io.Reader {
		return io.MultiReader(strings.NewReader(`{"Statement":[`), &spaces{n: size - 16}, strings.NewReader(`]}`))
	}
	_, err := policy.Read(body(), "policy.json")
	var le *readlimit.Error
	if want := "policy.json is 52,428,800 bytes, over the 1 MiB limit"; !errors.As(err, &le) || err.Error() != want {
		t.Fatalf("stream: %v, want %q", err, want)
	}
	path := t.TempDir() + "/big.json"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, body()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := policy.Read(f, path); err == nil || err.Error() != path+" is 52,428,800 bytes, over the 1 MiB limit" {
		t.Fatalf("file: %v", err)
	}
	doc, err := policy.Read(strings.NewReader(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`), "ok.json")
	if err != nil || len(doc.Statements) != 1 {
		t.Fatalf("small policy: %v", err)
	}
	var pe *policy.ParseError
	if _, err := policy.Read(strings.NewReader(`{"Statement":1}`), "bad.json"); !errors.As(err, &pe) {
		t.Fatalf("bad policy: %v, want a *ParseError", err)
	}
}

func TestParseDeepNesting(t *testing.T) {
	// The grammar never descends into unknown values, so deep nesting is
	// rejected at its first level.
	deep := `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":` +
		strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}}}`
	_, err := policy.Parse([]byte(deep))
	if err == nil || !strings.Contains(err.Error(), "got array") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseModel(t *testing.T) {
	src := `{
  "Version": "2012-10-17",
  "Id": "p",
  "Statement": {
    "Sid": "S",
    "Effect": "Deny",
    "Principal": {"Service": "cloudtrail.amazonaws.com", "AWS": ["111122223333", "AROAEXAMPLE"]},
    "NotAction": "iam:*",
    "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {
      "NumericLessThan": {"s3:max-keys": -1.5e3},
      "Bool": {"aws:SecureTransport": false},
      "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": []}
    }
  }
}`
	doc, err := policy.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &policy.Document{
		Version: policy.Version2012,
		ID:      "p",
		Statements: []policy.Statement{{
			Sid:    "S",
			Effect: policy.Deny,
			Principal: &policy.Principal{
				AWS:     []string{"111122223333", "AROAEXAMPLE"},
				Service: []string{"cloudtrail.amazonaws.com"},
			},
			NotAction:   []string{"iam:*"},
			NotResource: []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"},
			Condition: []policy.Condition{
				{Operator: policy.Operator{Base: "NumericLessThan"}, Key: "s3:max-keys",
					Values: []string{"-1.5e3"}, Pos: policy.Position{Line: 11, Column: 42}},
				{Operator: policy.Operator{Base: "Bool"}, Key: "aws:SecureTransport",
					Values: []string{"false"}, Pos: policy.Position{Line: 12, Column: 39}},
				{Operator: policy.Operator{Set: policy.ForAnyValue, Base: "StringLike", IfExists: true},
					Key: "aws:TagKeys", Values: []string{}, Pos: policy.Position{Line: 13, Column: 57}},
			},
			Pos: policy.Position{Line: 4, Column: 16},
		}},
	}
	if !deepEqual(doc, want) {
		t.Fatalf("got  %#v\nwant %#v", doc, want)
	}
}

func TestParseErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  policy.ParseError
		want string
	}{
		{"Full", policy.ParseError{Path: "$.Statement[2].Effect", Pos: policy.Position{Line: 14, Column: 17}, Msg: "bad"},
			"$.Statement[2].Effect (line 14, column 17): bad"},
		{"NoPosition", policy.ParseError{Path: "$", Msg: "too big"}, "$: too big"},
		{"MessageOnly", policy.ParseError{Msg: "x"}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseOperator(t *testing.T) {
	tests := []struct {
		name string
		want policy.Operator
		err  string
	}{
		{"StringEquals", policy.Operator{Base: "StringEquals"}, ""},
		{"StringEqualsIfExists", policy.Operator{Base: "StringEquals", IfExists: true}, ""},
		{"ForAnyValue:StringLike", policy.Operator{Set: policy.ForAnyValue, Base: "StringLike"}, ""},
		{"ForAllValues:ArnLikeIfExists", policy.Operator{Set: policy.ForAllValues, Base: "ArnLike", IfExists: true}, ""},
		{"Null", policy.Operator{Base: "Null"}, ""},
		{"ForAllValues:Null", policy.Operator{Set: policy.ForAllValues, Base: "Null"}, ""},
		{"NullIfExists", policy.Operator{}, "Null does not take the IfExists suffix"},
		{"IfExists", policy.Operator{}, "unknown condition operator"},
		{"StringEqualsIfExistsIfExists", policy.Operator{}, "unknown condition operator"},
		{"forAnyValue:StringLike", policy.Operator{}, `did you mean "ForAnyValue:StringLike"?`},
		{"ForAnyValue:stringlikeifexists", policy.Operator{}, `did you mean "ForAnyValue:StringLikeIfExists"?`},
		{"ForAnyValue:", policy.Operator{}, "unknown condition operator"},
		{"ForAnyValue:ForAllValues:StringLike", policy.Operator{}, "unknown condition operator"},
		{"", policy.Operator{}, "unknown condition operator"},
	}
	for _, tt := range tests {
		name := strings.NewReplacer(":", "_").Replace(tt.name)
		if name == "" {
			name = "Empty"
		}
		t.Run(name, func(t *testing.T) {
			got, err := policy.ParseOperator(tt.name)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.name {
				t.Errorf("String() = %q, want %q", got.String(), tt.name)
			}
		})
	}
}

func TestBaseOperators(t *testing.T) {
	ops := policy.BaseOperators()
	if len(ops) != 27 {
		t.Fatalf("%d base operators, want 27", len(ops))
	}
	for _, op := range ops {
		for _, name := range []string{op, op + "IfExists", "ForAnyValue:" + op, "ForAllValues:" + op + "IfExists"} {
			_, err := policy.ParseOperator(name)
			if wantErr := op == "Null" && strings.HasSuffix(name, "IfExists"); (err != nil) != wantErr {
				t.Errorf("ParseOperator(%q) error = %v", name, err)
			}
		}
	}
	ops[0] = "changed"
	if slices.Contains(policy.BaseOperators(), "changed") {
		t.Error("BaseOperators returns a shared slice")
	}
}
