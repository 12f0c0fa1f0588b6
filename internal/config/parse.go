package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/internal/readlimit"
)

// maxConfigBytes bounds what Parse reads; a real config is a few hundred bytes.
const maxConfigBytes = 1 << 20

// FieldError is a problem with one field of the config file.
type FieldError struct {
	File   string
	Field  string // e.g. "readers.roles[1]"
	Line   int    // 0 when unknown (e.g. a missing field)
	Column int
	Msg    string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// positions maps field paths to where they are in the file, so validation
// errors can point at the line to fix.
type positions map[string][2]int

// Parse reads a config, applies defaults and validates it. name is used in
// error messages only. The error joins one *FieldError per problem.
func Parse(r io.Reader, name string) (*Config, error) {
	data, err := readlimit.ReadAll(r, name, maxConfigBytes)
	if le := (*readlimit.Error)(nil); errors.As(err, &le) {
		return nil, &FieldError{File: name, Msg: "file is " + le.Measure() + "; is this really trailwarden.yaml?"}
	}
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", name, err)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: name, Msg: "file is empty; run `trailwarden init ...` to write one"}
		}
		return nil, &FieldError{File: name, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if err := oneDocument(dec, name); err != nil {
		return nil, err
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &FieldError{File: name, Line: root.Line, Column: root.Column, Msg: "expected a mapping of settings at the top level (see docs/config.md)"}
	}
	pos := positions{}
	var errs []error
	walk(root.Content[0], reflect.TypeOf(Config{}), "", pos, &errs, name)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cfg := Default()
	if err := root.Content[0].Decode(&cfg); err != nil {
		return nil, &FieldError{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if err := cfg.legacyProfile(name, pos); err != nil {
		return nil, err
	}
	if len(cfg.AWS.Regions) == 0 {
		cfg.AWS.Regions = nil // `regions: []` and no regions mean the same
	}
	if len(cfg.AcceptedForeignSids.BucketPolicy) == 0 {
		cfg.AcceptedForeignSids.BucketPolicy = nil
	}
	if len(cfg.AcceptedForeignSids.KeyPolicy) == 0 {
		cfg.AcceptedForeignSids.KeyPolicy = nil
	}
	if err := cfg.validate(name, pos); err != nil {
		return nil, err
	}
	cfg.source = &source{file: name, pos: pos}
	return &cfg, nil
}

// legacyProfile reads the setting "profile", the old name of "standard",
// with a notice; both at once are refused.
func (c *Config) legacyProfile(name string, pos positions) error {
	if c.LegacyProfile == "" {
		return nil
	}
	p, ok := pos["profile"]
	if _, both := pos["standard"]; both {
		return &FieldError{File: name, Field: "profile", Line: p[0], Column: p[1],
			Msg: "the old name of \"standard\", which is set too: keep standard and remove profile"}
	}
	if ok {
		pos["standard"] = p
	}
	c.Profile, c.LegacyProfile = c.LegacyProfile, ""
	where := name
	if ok {
		where = fmt.Sprintf("%s:%d", name, p[0])
	}
	c.Notices = append(c.Notices, fmt.Sprintf("%s: the setting \"profile\" is now called \"standard\"; read as standard: %s (rename it to stop this notice)", where, c.Profile))
	return nil
}

// oneDocument refuses a second YAML document after the first ("---" and
// more settings): the first document alone would be read, and the rest
// ignored without a word. An empty document after a trailing "---" holds
// nothing to ignore.
func oneDocument(dec *yaml.Decoder, name string) error {
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return &FieldError{File: name, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		if len(next.Content) == 1 && next.Content[0].Kind == yaml.ScalarNode && next.Content[0].Tag == "!!null" {
			continue
		}
		return &FieldError{File: name, Line: next.Line, Column: next.Column,
			Msg: "a second YAML document starts here, and trailwarden would ignore it: keep one document per file (merge its settings into the first, or move them to a file of their own)"}
	}
}

// walk rejects unknown keys and wrong shapes, records positions, and marks
// scalars bound to string fields as strings so that an unquoted account id
// keeps its leading zeros (YAML would otherwise read 012345678901 as a number).
func walk(n *yaml.Node, t reflect.Type, path string, pos positions, errs *[]error, file string) {
	pos[path] = [2]int{n.Line, n.Column}
	fail := func(msg string) {
		*errs = append(*errs, &FieldError{File: file, Field: path, Line: n.Line, Column: n.Column, Msg: msg})
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			fail("expected a mapping")
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			if seen[k.Value] {
				*errs = append(*errs, &FieldError{File: file, Field: child, Line: k.Line, Column: k.Column, Msg: "set twice; keep one"})
				continue
			}
			seen[k.Value] = true
			f, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, &FieldError{File: file, Field: child, Line: k.Line, Column: k.Column,
					Msg: "unknown setting; known settings here: " + strings.Join(slices.Sorted(maps.Keys(fields)), ", ")})
				continue
			}
			walk(v, f, child, pos, errs, file)
			if v.Kind != yaml.ScalarNode {
				// A mapping or list is where its key is, not where its
				// first entry is.
				pos[child] = [2]int{k.Line, k.Column}
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.SequenceNode {
			fail("expected a list, e.g. [\"111111111111\", \"222222222222\"]")
			return
		}
		for i, c := range n.Content {
			walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos, errs, file)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			fail("expected a single value")
			return
		}
		if n.Tag == "!!null" {
			n.Value = ""
		}
		n.Tag = "!!str"
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			fail(fmt.Sprintf("expected true or false, got %q", n.Value))
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			fail(fmt.Sprintf("expected a whole number, got %q", n.Value))
		}
	}
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = f.Type
		}
	}
	return out
}
