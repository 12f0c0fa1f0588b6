// Package sigmacorpus reads the Sigma corpus (internal/sigma/testdata/corpus:
// rule + events + expected matches) and generates CloudTrail records for
// the tests of package sigma and the differential test of its DuckDB SQL.
// Tests only.
package sigmacorpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Case is one corpus file.
type Case struct {
	File         string
	Name         string              `yaml:"name"`
	Rule         string              `yaml:"rule"`
	Placeholders map[string][]string `yaml:"placeholders"`
	// Unsupported, when set, is part of the reason Compile refuses the
	// rule with (in both dialects); AthenaUnsupported only on Athena.
	Unsupported       string `yaml:"unsupported"`
	AthenaUnsupported string `yaml:"athena_unsupported"`
	Events            []struct {
		Match bool           `yaml:"match"`
		Event map[string]any `yaml:"event"`
	} `yaml:"events"`
	// Fires are a correlation's expected episodes, by their event ids.
	Fires [][]string `yaml:"fires"`
}

// Dir is the corpus folder.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "sigma", "testdata", "corpus")
}

// Load reads every case of the corpus, each event normalized (Record).
func Load() ([]*Case, error) {
	files, err := filepath.Glob(filepath.Join(Dir(), "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Case
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c := &Case{File: filepath.Base(f)}
		if err := yaml.Unmarshal(data, c); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i := range c.Events {
			rec, err := Record(c.Events[i].Event, strings.TrimSuffix(c.File, ".yaml")+"-"+strconv.Itoa(i))
			if err != nil {
				return nil, fmt.Errorf("%s event %d: %w", f, i, err)
			}
			c.Events[i].Event = rec
		}
		out = append(out, c)
	}
	return out, nil
}

// Record makes a record as CloudTrail writes it from a corpus event:
// eventVersion, eventID (id unless set), eventTime, awsRegion and
// recipientAccountId filled in when absent, then round-tripped through
// JSON so values have the types encoding/json (UseNumber) gives.
func Record(ev map[string]any, id string) (map[string]any, error) {
	rec := map[string]any{}
	for k, v := range ev {
		rec[k] = v
	}
	defaults := map[string]any{
		"eventVersion": "1.09", "eventID": id, "eventTime": "2024-05-01T10:00:00Z",
		"awsRegion": "us-east-1", "recipientAccountId": "111122223333",
	}
	for k, v := range defaults {
		if _, ok := rec[k]; !ok {
			rec[k] = v
		}
	}
	data, err := json.Marshal(normalize(rec))
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// Decode reads one JSON record as the matcher expects it.
func Decode(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out map[string]any
	err := dec.Decode(&out)
	return out, err
}

// normalize turns YAML's map[any]any (if any) into JSON-able maps.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// LogFile is records as a CloudTrail log file ({"Records":[...]}), each
// record compact JSON with sorted keys (as the matcher re-encodes
// nested objects).
func LogFile(recs []map[string]any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteString(`]}`)
	return b.Bytes(), nil
}

// Generate makes n records by recombining the corpus's events: each
// record takes, for every field path any corpus event has, nothing, a
// null, one of the values seen for it (sometimes with its case changed)
// or a nearby value, so that every rule meets both matches and near
// misses. Records are deterministic for a seed.
func Generate(cases []*Case, n int, seed uint64) []map[string]any {
	vals := map[string][]any{}
	var paths []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := prefix + k
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(p+".", sub)
				continue
			}
			if _, seen := vals[p]; !seen {
				paths = append(paths, p)
			}
			vals[p] = append(vals[p], v)
		}
	}
	for _, c := range cases {
		for _, e := range c.Events {
			walk("", e.Event)
		}
	}
	sort.Strings(paths)
	for _, p := range []string{"eventID", "eventTime", "eventVersion"} {
		delete(vals, p)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // deterministic test data
	var out []map[string]any
	for i := 0; i < n; i++ {
		rec := map[string]any{}
		for _, p := range paths {
			vs, ok := vals[p]
			if !ok || rng.IntN(3) > 0 {
				continue
			}
			var v any
			switch rng.IntN(10) {
			case 0:
				v = nil
			case 1:
				v = mutate(vs[rng.IntN(len(vs))], rng)
			default:
				v = vs[rng.IntN(len(vs))]
			}
			set(rec, strings.Split(p, "."), v)
		}
		rec["eventID"] = fmt.Sprintf("gen-%d-%d", seed, i)
		rec["eventTime"] = fmt.Sprintf("2024-05-01T10:%02d:%02dZ", rng.IntN(60), rng.IntN(60))
		r, err := Record(rec, "")
		if err == nil {
			out = append(out, r)
		}
	}
	return out
}

func set(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		sub, ok := m[k].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[k] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}

// mutate changes a value a little: its case, a character, an append.
func mutate(v any, rng *rand.Rand) any {
	s, ok := v.(string)
	if !ok {
		if n, ok := v.(json.Number); ok {
			return json.Number(string(n) + "0")
		}
		return v
	}
	switch rng.IntN(4) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return s + "x"
	case 2:
		if len(s) > 1 {
			return s[1:]
		}
		return s
	}
	return strings.ToLower(s)
}
