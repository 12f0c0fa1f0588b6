package layout

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// keyCase is one entry of testdata/keys.json.
type keyCase struct {
	Name string `json:"name"`
	Key  string `json:"key"`
	Err  string `json:"err"`
	Want struct {
		Kind     string `json:"kind"`
		Prefix   string `json:"prefix"`
		Org      string `json:"org"`
		Account  string `json:"account"`
		Region   string `json:"region"`
		Date     string `json:"date"`
		Time     string `json:"time"`
		Unique   string `json:"unique"`
		Trail    string `json:"trail"`
		Home     string `json:"home"`
		Backfill bool   `json:"backfill"`
	} `json:"want"`
}

func loadCases(tb testing.TB) []keyCase {
	tb.Helper()
	raw, err := os.ReadFile("testdata/keys.json")
	if err != nil {
		tb.Fatal(err)
	}
	var cases []keyCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		tb.Fatalf("testdata/keys.json: %v", err)
	}
	return cases
}

func TestParseTable(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 40 {
		t.Fatalf("only %d cases in testdata/keys.json", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			k, err := Parse(c.Key)
			if c.Err != "" {
				checkParseError(t, c.Key, err, c.Err)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := k.Kind.String(); got != c.Want.Kind {
				t.Fatalf("kind = %s, want %s", got, c.Want.Kind)
			}
			if got := k.String(); got != c.Key {
				t.Errorf("String() = %q, want the input back", got)
			}
			if again, err := Parse(k.String()); err != nil || again != k {
				t.Errorf("round trip: %+v, %v; want %+v", again, err, k)
			}
			if k.Kind == Other {
				if k != (Key{Kind: Other, Name: c.Key}) {
					t.Errorf("other key = %+v, want only Name set", k)
				}
				return
			}
			w := c.Want
			got := map[string]string{
				"prefix": k.Prefix, "org": k.OrgID, "account": k.Account, "region": k.Region,
				"date": fmt.Sprintf("%04d-%02d-%02d", k.Year, k.Month, k.Day),
				"time": k.FileTime.Format(time.RFC3339), "unique": k.Unique,
				"trail": k.TrailName, "home": k.HomeRegion, "backfill": fmt.Sprint(k.Backfill),
				"name": k.Name,
			}
			want := map[string]string{
				"prefix": w.Prefix, "org": w.Org, "account": w.Account, "region": w.Region,
				"date": w.Date, "time": w.Time, "unique": w.Unique, "trail": w.Trail,
				"home": w.Home, "backfill": fmt.Sprint(w.Backfill),
				"name": c.Key[strings.LastIndex(c.Key, "/")+1:],
			}
			for f := range want {
				if got[f] != want[f] {
					t.Errorf("%s = %q, want %q", f, got[f], want[f])
				}
			}
			if k.FileTime.Location() != time.UTC {
				t.Errorf("FileTime location = %v, want UTC", k.FileTime.Location())
			}
		})
	}
}

// checkParseError requires a *ParseError that names the key and says what is wrong.
func checkParseError(t *testing.T, key string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Parse(%q) succeeded, want an error containing %q", key, want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Key != key || !errors.Is(err, ErrMalformed) {
		t.Errorf("error %v (%T) is not a *ParseError for the key wrapping ErrMalformed", err, err)
	}
	msg := err.Error()
	if len(key) <= 200 && !strings.Contains(msg, fmt.Sprintf("parse key %q: ", key)) {
		t.Errorf("error %q does not name the key", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not contain %q", msg, want)
	}
}

func TestParseOverLong(t *testing.T) {
	name := "111122223333_CloudTrail_us-east-1_20240309T1200Z_0123456789abcdef.json.gz"
	prefix := strings.Repeat("p/", 500)
	key := LogKey(strings.TrimSuffix(prefix, "/"), "", "111122223333", "us-east-1",
		time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC), "0123456789abcdef")
	if !strings.HasSuffix(key, name) || len(key) <= MaxKeyLen {
		t.Fatalf("test key is %d bytes", len(key))
	}
	_, err := Parse(key)
	checkParseError(t, key, err, fmt.Sprintf("key is %d bytes, longer than S3's 1024-byte limit", len(key)))
	if msg := err.Error(); len(msg) > 400 || !strings.Contains(msg, `..."`) {
		t.Errorf("error for an over-long key is not shortened: %d bytes", len(msg))
	}
	// An over-long key that is not CloudTrail's is still just ignored.
	if k, err := Parse(strings.Repeat("x", 2000)); err != nil || k.Kind != Other {
		t.Errorf("over-long unrelated key: %v, %v", k.Kind, err)
	}
}

func TestParseInvalidUTF8(t *testing.T) {
	key := "logs\xff/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/09/111122223333_CloudTrail_us-east-1_20240309T1200Z_0123456789abcdef.json.gz"
	_, err := Parse(key)
	checkParseError(t, key, err, "not valid UTF-8")
	key = strings.Replace(key, "\xff", "\u0085", 1) // C1 control (NEL)
	_, err = Parse(key)
	checkParseError(t, key, err, "control character")
}

func TestConstructors(t *testing.T) {
	at := time.Date(2024, 3, 9, 14, 5, 59, 0, time.FixedZone("x", 3600)) // 13:05:59 UTC
	tests := []struct {
		got, want string
	}{
		{LogKey("", "", "111122223333", "us-east-1", at, "abcdefghijklmnop"),
			"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/09/111122223333_CloudTrail_us-east-1_20240309T1305Z_abcdefghijklmnop.json.gz"},
		{LogKey("logs/", "o-a1b2c3d4e5", "111122223333", "us-east-1", at, "abcdefghijklmnop"),
			"logs/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/2024/03/09/111122223333_CloudTrail_us-east-1_20240309T1305Z_abcdefghijklmnop.json.gz"},
		{DigestKey("", "", "111122223333", "eu-west-1", "org_trail", "us-east-1", at, false),
			"AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/03/09/111122223333_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20240309T130559Z.json.gz"},
		{DigestKey("o-a1b2c3d4e5", "o-a1b2c3d4e5", "111122223333", "us-east-1", "main", "us-east-1", at, true),
			"o-a1b2c3d4e5/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/us-east-1/2024/03/09/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20240309T130559Z_backfill.json.gz"},
		{AccountsPrefix("", ""), "AWSLogs/"},
		{AccountsPrefix("logs", "o-a1b2c3d4e5"), "logs/AWSLogs/o-a1b2c3d4e5/"},
		{LogPrefix("logs", "", "111122223333", ""), "logs/AWSLogs/111122223333/CloudTrail/"},
		{LogPrefix("", "o-a1b2c3d4e5", "111122223333", "us-east-1"), "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/"},
		{DigestPrefix("", "", "111122223333", "us-east-1"), "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/"},
		{InsightPrefix("p", "", "111122223333", "us-east-1"), "p/AWSLogs/111122223333/CloudTrail-Insight/us-east-1/"},
		{DayPrefix("", "", "111122223333", "us-east-1", LogFile, at), "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/09/"},
		{DayPrefix("p", "o-a1b2c3d4e5", "111122223333", "us-east-1", DigestFile, at), "p/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/us-east-1/2024/03/09/"},
		{DayPrefix("", "", "111122223333", "us-east-1", InsightFile, at), "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/03/09/"},
		{DayPrefix("", "", "111122223333", "us-east-1", Other, at), ""},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got  %q\nwant %q", i, tt.got, tt.want)
		}
	}
}

// TestRoundTripGenerated builds keys of every kind and layout with the
// constructors and checks that they parse, round trip, and sit under the
// listing prefixes a caller would use to find them.
func TestRoundTripGenerated(t *testing.T) {
	prefixes := []string{"", "logs", "a/b.c/d-e", "o-a1b2c3d4e5"}
	orgs := []string{"", "o-a1b2c3d4e5"}
	regions := []string{"us-east-1", "ap-northeast-3", "us-gov-east-1", "il-central-1"}
	trails := []string{"main", "org_trail_2", "a.b-c_d"}
	start := time.Date(2023, 12, 31, 22, 59, 0, 0, time.UTC)
	n := 0
	for _, p := range prefixes {
		for _, org := range orgs {
			for ri, region := range regions {
				for h := 0; h < 50; h += 7 {
					at := start.Add(time.Duration(h) * 37 * time.Minute).Add(time.Duration(ri) * time.Second)
					log := LogKey(p, org, "012345678901", region, at, "0123456789ABCDEF")
					checkGenerated(t, log, LogFile, LogPrefix(p, org, "012345678901", region),
						DayPrefix(p, org, "012345678901", region, LogFile, at))
					for _, trail := range trails {
						for _, bf := range []bool{false, true} {
							d := DigestKey(p, org, "012345678901", region, trail, "us-east-1", at, bf)
							k := checkGenerated(t, d, DigestFile, DigestPrefix(p, org, "012345678901", region),
								DayPrefix(p, org, "012345678901", region, DigestFile, at))
							if k.TrailName != trail || k.Backfill != bf || !k.FileTime.Equal(at) {
								t.Errorf("%q parsed as %+v", d, k)
							}
							n++
						}
					}
					n++
				}
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d keys generated", n)
	}
}

func checkGenerated(t *testing.T, key string, kind Kind, listing, day string) Key {
	t.Helper()
	k, err := Parse(key)
	if err != nil {
		t.Fatalf("Parse(%q): %v", key, err)
	}
	if k.Kind != kind || k.String() != key {
		t.Fatalf("Parse(%q) = %+v, String() = %q", key, k, k.String())
	}
	if !strings.HasPrefix(key, listing) || !strings.HasPrefix(key, day) {
		t.Errorf("%q is not under %q and %q", key, listing, day)
	}
	if !strings.HasPrefix(key, AccountsPrefix(k.Prefix, k.OrgID)) {
		t.Errorf("%q is not under its accounts prefix", key)
	}
	return k
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Other: "other", LogFile: "log", DigestFile: "digest", InsightFile: "insight", Kind(9): "kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
	if got := (Key{Kind: Kind(9), Name: "x"}).String(); got != "x" {
		t.Errorf("unknown kind renders %q", got)
	}
}
