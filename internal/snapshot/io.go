package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/safefile"
)

// Decode reads a snapshot strictly: unknown fields, trailing data and a
// schema version newer than SchemaVersion are errors that say what to do.
// A version-1 file's single "key" becomes the one item of Keys.
func Decode(r io.Reader, name string) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", name, err)
	}
	// json.Unmarshal also rejects trailing data. The version is checked first so that a newer file fails on its
	// version, not on the first field this build does not know.
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w (is it a trailwarden snapshot?)", name, describeJSONError(data, err))
	}
	switch {
	case head.Version == nil:
		return nil, fmt.Errorf("snapshot %s: no \"version\" field; take it with `trailwarden snapshot`", name)
	case *head.Version > SchemaVersion:
		return nil, fmt.Errorf("snapshot %s: schema version %d is newer than this trailwarden reads (%d); upgrade trailwarden", name, *head.Version, SchemaVersion)
	case *head.Version < 1:
		return nil, fmt.Errorf("snapshot %s: schema version %d is not valid", name, *head.Version)
	}
	if *head.Version < 3 {
		// Versions 1 and 2 wrote camelCase keys.
		data = snakeKeys(data)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if *head.Version == 1 {
		// Version 1 held one key and no "keys" list.
		var v1 struct {
			v1Snapshot
			Key *Key `json:"key,omitempty"`
		}
		if err := dec.Decode(&v1); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", name, describeJSONError(data, err))
		}
		s := Snapshot(v1.v1Snapshot)
		if v1.Key != nil {
			s.Keys = []Key{*v1.Key}
		}
		return &s, nil
	}
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", name, describeJSONError(data, err))
	}
	return &s, nil
}

// v1Snapshot is Snapshot without the "keys" field, which version 1 did not
// have (its single key is decoded beside it).
type v1Snapshot struct {
	Version         int           `json:"version"`
	TakenAt         time.Time     `json:"taken_at"`
	Partition       string        `json:"partition"`
	Organization    *Organization `json:"organization,omitempty"`
	Accounts        []Account     `json:"accounts"`
	Bucket          *Bucket       `json:"bucket,omitempty"`
	AccessLogTarget *Bucket       `json:"-"`
	Keys            []Key         `json:"-"`
	Readers         []Role        `json:"readers,omitempty"`
	Errors          []CallError   `json:"errors,omitempty"`
}

// snakeKeys rewrites the camelCase keys of a version 1 or 2 snapshot as
// version 3 names them (s3BucketName is s3_bucket_name); the keys of a
// tag map are data and stay as they are. It changes nothing else, so the
// lines of what follows stay where they were (for error messages), and
// text that is not JSON passes through for the decoder to report.
func snakeKeys(data []byte) []byte {
	out := make([]byte, 0, len(data)+len(data)/8)
	// Per open object or array: whether its keys are data (a tag map).
	var dataKeys []bool
	lastKey := ""
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '{':
			dataKeys = append(dataKeys, lastKey == "tags")
			lastKey = ""
		case '[':
			dataKeys = append(dataKeys, false)
			lastKey = ""
		case '}', ']':
			if len(dataKeys) > 0 {
				dataKeys = dataKeys[:len(dataKeys)-1]
			}
		case '"':
			end := i + 1
			for end < len(data) && data[end] != '"' {
				if data[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(data) {
				return append(out, data[i:]...)
			}
			str := string(data[i+1 : end])
			next := end + 1
			for next < len(data) && (data[next] == ' ' || data[next] == '\t' || data[next] == '\n' || data[next] == '\r') {
				next++
			}
			isKey := next < len(data) && data[next] == ':'
			if isKey && (len(dataKeys) == 0 || !dataKeys[len(dataKeys)-1]) {
				lastKey = str
				str = snakeCase(str)
			} else if isKey {
				lastKey = ""
			}
			out = append(out, '"')
			out = append(out, str...)
			out = append(out, '"')
			i = end
			continue
		}
		out = append(out, c)
	}
	return out
}

// snakeCase is s3BucketName as s3_bucket_name.
func snakeCase(k string) string {
	var b strings.Builder
	for _, r := range k {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ReadFile decodes the snapshot at path.
func ReadFile(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	defer func() { _ = f.Close() }()
	return Decode(f, path)
}

// Encode writes s as indented JSON, stamping the schema version.
func Encode(w io.Writer, s *Snapshot) error {
	c := *s
	c.Version = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	return nil
}

// WriteFile writes s to path atomically: readers see the old file or the
// whole new one. The file is the owner's alone (0600): a snapshot holds
// the pipeline's policies, which say who can read the logs.
func WriteFile(path string, s *Snapshot) error {
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		return err
	}
	if err := safefile.Write(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return nil
}

// describeJSONError adds the line and column to encoding/json's errors,
// which only carry a byte offset.
func describeJSONError(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d column %d: %w", line, col, err)
}

// CheckTakenFor reports whether s is a snapshot of the pipeline with this
// bucket and organization (orgID "" skips that check): a snapshot taken
// with another config would make every finding and plan step wrong.
func (s *Snapshot) CheckTakenFor(bucket, orgID string) error {
	if s.Bucket != nil && s.Bucket.Name != bucket {
		return fmt.Errorf("the snapshot is of bucket %s, the config's bucket is %s: take a snapshot with this config", s.Bucket.Name, bucket)
	}
	if orgID != "" && s.Organization != nil && s.Organization.ID != "" && s.Organization.ID != orgID {
		return fmt.Errorf("the snapshot is of organization %s, the config's is %s: take a snapshot with this config", s.Organization.ID, orgID)
	}
	return nil
}
