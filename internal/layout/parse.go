package layout

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxKeyLen is S3's limit on object key length in bytes.
const MaxKeyLen = 1024

// ErrMalformed is wrapped by every error of Parse, so callers can tell a bad
// CloudTrail key from other failures with errors.Is.
var ErrMalformed = errors.New("malformed CloudTrail object key")

// ParseError reports a key that is meant to be a CloudTrail key but is not
// one CloudTrail would write.
type ParseError struct {
	Key    string // the key as given
	Reason string // what is wrong, for people
}

func (e *ParseError) Error() string {
	shown := e.Key
	if len(shown) > 200 { // keep messages readable for over-long keys
		shown = shown[:200] + "..."
	}
	return fmt.Sprintf("parse key %q: %s", shown, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *ParseError) Unwrap() error { return ErrMalformed }

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	// Looser than a list of regions on purpose: new regions and partitions
	// (us-gov-, us-isob-, eusc-de-) appear without notice.
	regionRe = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
	uniqueRe = regexp.MustCompile(`^[A-Za-z0-9]{16}$`)
	// CloudTrail's trail-name rules: 3 to 128 letters, digits, periods,
	// underscores or dashes, starting and ending with a letter or digit.
	trailRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)
)

// Parse splits an object key of a CloudTrail bucket into its parts.
//
// A key is a CloudTrail key when it has an "AWSLogs" segment followed, within
// the next three segments, by a CloudTrail, CloudTrail-Digest or
// CloudTrail-Insight folder. Every other key, including folder placeholders
// ending in "/", is returned as Kind Other with a nil error. A CloudTrail key
// that CloudTrail could not have written returns a *ParseError.
func Parse(key string) (Key, error) {
	other := Key{Kind: Other, Name: key}
	if key == "" || strings.HasSuffix(key, "/") {
		return other, nil
	}
	segs := strings.Split(key, "/")
	at, svc, kind := locate(segs)
	if at < 0 {
		return other, nil
	}
	fail := func(format string, args ...any) (Key, error) {
		return Key{}, &ParseError{Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	if len(key) > MaxKeyLen {
		return fail("key is %d bytes, longer than S3's %d-byte limit", len(key), MaxKeyLen)
	}
	if reason := checkChars(key); reason != "" {
		return fail("%s", reason)
	}
	for i, s := range segs {
		switch s {
		case "":
			return fail("empty path segment %d (doubled or leading slash)", i+1)
		case ".", "..":
			return fail("path segment %q is a relative path element", s)
		}
	}
	k := Key{Prefix: strings.Join(segs[:at], "/"), Kind: kind}
	switch ids := segs[at+1 : svc]; len(ids) {
	case 0:
		return fail("no account id between %s/ and %s/", awsLogs, segs[svc])
	case 1:
		if orgRe.MatchString(ids[0]) {
			return fail("organization %s has no account id folder before %s/", ids[0], segs[svc])
		}
		k.Account = ids[0]
	default:
		if !orgRe.MatchString(ids[0]) {
			return fail("%q after %s/ is not an organization id (o- and 10 to 32 lower-case letters or digits)", ids[0], awsLogs)
		}
		k.OrgID, k.Account = ids[0], ids[1]
	}
	if !accountRe.MatchString(k.Account) {
		return fail("%q is not a 12-digit account id", k.Account)
	}
	rest := segs[svc+1:]
	if len(rest) != 5 {
		what := "missing parts"
		if len(rest) > 5 {
			what = "extra path segments"
		}
		return fail("%s: want %s/<region>/YYYY/MM/DD/<file>, got %d segments after %s/", what, segs[svc], len(rest), segs[svc])
	}
	k.Region, k.Name = rest[0], rest[4]
	if !regionRe.MatchString(k.Region) {
		return fail("region folder %q is not a region name", k.Region)
	}
	day, err := parseDay(rest[1], rest[2], rest[3])
	if err != nil {
		return fail("%v", err)
	}
	k.Year, k.Month, k.Day = day.Year(), int(day.Month()), day.Day()
	if err := parseName(&k); err != nil {
		return fail("file name %q: %v", k.Name, err)
	}
	// Log and insight date folders are the delivery date, which is also in the
	// file name; digests are only documented to use the end date, so they
	// are not held to it.
	if k.Kind != DigestFile {
		if y, m, d := k.FileTime.Date(); y != k.Year || int(m) != k.Month || d != k.Day {
			return fail("date folders %04d/%02d/%02d disagree with the file-name date %04d-%02d-%02d",
				k.Year, k.Month, k.Day, y, int(m), d)
		}
	}
	return k, nil
}

// locate finds the last "AWSLogs" segment followed within three segments by a
// CloudTrail folder. The last one wins so that a trail prefix which itself
// contains "AWSLogs" does not confuse parsing: in a valid key no segment
// after the structural AWSLogs (ids, folder, region, date, file name) can be
// "AWSLogs", so the last match is the real one.
func locate(segs []string) (at, svc int, kind Kind) {
	for i := len(segs) - 2; i >= 0; i-- {
		if segs[i] != awsLogs {
			continue
		}
		for j := i + 1; j <= i+3 && j < len(segs); j++ {
			switch segs[j] {
			case logFolder:
				return i, j, LogFile
			case digestFolder:
				return i, j, DigestFile
			case insightFolder:
				return i, j, InsightFile
			}
		}
	}
	return -1, -1, Other
}

// checkChars rejects what S3 listings of CloudTrail output never hold and
// what would be dangerous if a key became a local path or a log line.
func checkChars(key string) string {
	if !utf8.ValidString(key) {
		return "key is not valid UTF-8"
	}
	for i, r := range key {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Sprintf("control character %q at byte %d", r, i)
		}
	}
	return ""
}

// parseDay checks the YYYY/MM/DD folders: zero-padded and a real date.
func parseDay(y, m, d string) (time.Time, error) {
	if len(y) != 4 || len(m) != 2 || len(d) != 2 || !digits(y+m+d) {
		return time.Time{}, fmt.Errorf("date folders %s/%s/%s are not YYYY/MM/DD", y, m, d)
	}
	t, ok := makeTime(atoi(y), atoi(m), atoi(d), 0, 0, 0)
	if !ok {
		return time.Time{}, fmt.Errorf("date folders %s/%s/%s are not a calendar date", y, m, d)
	}
	return t, nil
}

// parseName fills the file-name fields of k from k.Name.
func parseName(k *Key) error {
	base, ok := strings.CutSuffix(k.Name, extension)
	if !ok {
		return fmt.Errorf("does not end in %s", extension)
	}
	if k.Kind == DigestFile {
		base, k.Backfill = strings.CutSuffix(base, backfillTag)
	}
	parts := strings.Split(base, "_")
	tag := k.Kind.folder()
	if k.Kind == DigestFile {
		if len(parts) < 6 {
			return fmt.Errorf("want <account>_%s_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>[_backfill]%s", tag, extension)
		}
		n := len(parts)
		// The trail name may contain underscores; the fields around it are fixed.
		k.TrailName = strings.Join(parts[3:n-2], "_")
		k.HomeRegion = parts[n-2]
		parts = []string{parts[0], parts[1], parts[2], parts[n-1]}
	} else if len(parts) != 5 {
		return fmt.Errorf("want <account>_%s_<region>_<YYYYMMDDTHHmmZ>_<unique>%s", tag, extension)
	}
	if parts[1] != tag {
		return fmt.Errorf("file tag %q does not match the %s/ folder", parts[1], tag)
	}
	if parts[0] != k.Account {
		return fmt.Errorf("account %q differs from the account folder %s", parts[0], k.Account)
	}
	if parts[2] != k.Region {
		return fmt.Errorf("region %q differs from the region folder %s", parts[2], k.Region)
	}
	var err error
	if k.Kind == DigestFile {
		if !trailRe.MatchString(k.TrailName) {
			return fmt.Errorf("trail name %q is not a CloudTrail trail name", k.TrailName)
		}
		if !regionRe.MatchString(k.HomeRegion) {
			return fmt.Errorf("home region %q is not a region name", k.HomeRegion)
		}
		k.FileTime, err = parseStamp(parts[3], true)
		return err
	}
	k.FileTime, err = parseStamp(parts[3], false)
	if err != nil {
		return err
	}
	k.Unique = parts[4]
	if !uniqueRe.MatchString(k.Unique) {
		return fmt.Errorf("unique string %q is not 16 letters or digits", k.Unique)
	}
	return nil
}

// parseStamp reads YYYYMMDDTHHmmZ, or YYYYMMDDTHHMMSSZ when seconds is set.
// It checks every digit itself because time.Parse accepts signs and other
// variants that would not render back to the same key.
func parseStamp(s string, seconds bool) (time.Time, error) {
	want := len(logStamp)
	if seconds {
		want = len(digestStamp)
	}
	bad := func() (time.Time, error) {
		if seconds {
			return time.Time{}, fmt.Errorf("timestamp %q is not YYYYMMDDTHHMMSSZ", s)
		}
		return time.Time{}, fmt.Errorf("timestamp %q is not YYYYMMDDTHHmmZ", s)
	}
	if len(s) != want || s[8] != 'T' || s[want-1] != 'Z' || !digits(s[:8]+s[9:want-1]) {
		return bad()
	}
	sec := 0
	if seconds {
		sec = atoi(s[13:15])
	}
	t, ok := makeTime(atoi(s[:4]), atoi(s[4:6]), atoi(s[6:8]), atoi(s[9:11]), atoi(s[11:13]), sec)
	if !ok {
		return bad()
	}
	return t, nil
}

// makeTime builds a UTC time and reports whether no field overflowed (which
// time.Date would silently normalise, e.g. February 30 to March 2).
func makeTime(y, mo, d, h, mi, s int) (time.Time, bool) {
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
	ok := t.Year() == y && int(t.Month()) == mo && t.Day() == d &&
		t.Hour() == h && t.Minute() == mi && t.Second() == s
	return t, ok
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts a string already checked by digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
