package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Skip is a rule, or a file, left out of a Set, and why.
type Skip struct{ ID, Title, Source, Reason string }

// Set is the rules found under some roots, and what was skipped: files
// that are not rules, and rules whose log source is not CloudTrail.
type Set struct {
	Rules   []*Rule
	Skipped []Skip
}

// Load reads every *.yml and *.yaml file under the roots (files or
// folders of fsys), in name order. A file that does not parse becomes a
// Skip naming the file; a rule whose log source is not CloudTrail becomes
// a Skip naming the rule. Correlations are resolved across the whole set.
// Load fails only when a root cannot be read.
func Load(fsys fs.FS, roots ...string) (*Set, error) {
	s := &Set{}
	var files []string
	for _, root := range roots {
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			ext := strings.ToLower(path.Ext(p))
			if ext == ".yml" || ext == ".yaml" {
				files = append(files, p)
			} else if p == root {
				// A file named on purpose is never passed over in silence.
				s.Skipped = append(s.Skipped, Skip{Source: p, Reason: "not a .yml or .yaml file"})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sigma: load %s: %w", root, err)
		}
	}
	sort.Strings(files)
	files = dedupe(files)
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("sigma: load %s: %w", f, err)
		}
		rules, err := Parse(data, f)
		if err != nil {
			reason := err.Error()
			var pe *ParseError
			if errors.As(err, &pe) {
				reason = fmt.Sprintf("not a Sigma rule (document %d): %s", pe.Doc, pe.Reason)
			}
			s.Skipped = append(s.Skipped, Skip{Source: f, Reason: reason})
			continue
		}
		for _, r := range rules {
			if r.Correlation == nil && !r.Logsource.CloudTrail() {
				s.Skipped = append(s.Skipped, Skip{ID: r.ID, Title: r.Title, Source: f, Reason: notCloudTrail(r.Logsource)})
				continue
			}
			s.Rules = append(s.Rules, r)
		}
	}
	Resolve(s.Rules)
	return s, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
