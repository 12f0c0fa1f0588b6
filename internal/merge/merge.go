// Package merge combines the statements trailwarden owns with an existing
// policy: statements it does not own are kept, in their order and meaning;
// its own statements are updated in place, added at the end, or removed.
// Merging the output again with the same statements is a no-op.
package merge

import (
	"strconv"
	"strings"

	"github.com/trailwarden/trailwarden/internal/policy"
)

// Change says what happened to one owned statement.
type Change struct {
	Sid  string `json:"sid"`
	Kind string `json:"change"` // added, updated, removed, unchanged
}

// Change kinds.
const (
	Added     = "added"
	Updated   = "updated"
	Removed   = "removed"
	Unchanged = "unchanged"
)

// Result is a merged policy and what changed.
type Result struct {
	Doc     *policy.Document
	Changes []Change
	// Foreign counts the statements kept because trailwarden does not own them.
	Foreign int
	// Notes are things a person should know about the merge.
	Notes []string
}

// Merge replaces the owned statements of existing (nil for none) with
// generated, keeping every other statement where it is.
func Merge(existing *policy.Document, generated []policy.Statement, owned func(sid string) bool) Result {
	want := make(map[string]int, len(generated))
	for i, s := range generated {
		want[s.Sid] = i
	}
	out := &policy.Document{Version: policy.Version2012}
	var res Result
	placed := make([]bool, len(generated))
	if existing != nil {
		out.ID = existing.ID
		for _, s := range existing.Statements {
			if !owned(s.Sid) {
				res.Foreign++
				out.Statements = append(out.Statements, s.Clone())
				if existing.Version != policy.Version2012 && usesVariables(s) {
					res.Notes = append(res.Notes, "statement "+describe(s)+" contains \"${\", which the old policy Version "+
						versionName(existing.Version)+" treats as literal text but Version 2012-10-17 reads as a policy variable; check that it still means what it should")
				}
				continue
			}
			i, ok := want[s.Sid]
			if !ok || placed[i] {
				res.Changes = append(res.Changes, Change{Sid: s.Sid, Kind: Removed})
				continue
			}
			placed[i] = true
			kind := Unchanged
			if !policy.EqualStatement(s, generated[i]) || s.Sid != generated[i].Sid {
				kind = Updated
			}
			res.Changes = append(res.Changes, Change{Sid: s.Sid, Kind: kind})
			out.Statements = append(out.Statements, generated[i].Clone())
		}
	}
	for i, s := range generated {
		if !placed[i] {
			res.Changes = append(res.Changes, Change{Sid: s.Sid, Kind: Added})
			out.Statements = append(out.Statements, s.Clone())
		}
	}
	res.Doc = out
	return res
}

func usesVariables(s policy.Statement) bool {
	for _, xs := range [][]string{s.Resource, s.NotResource} {
		for _, x := range xs {
			if strings.Contains(x, "${") {
				return true
			}
		}
	}
	for _, c := range s.Condition {
		for _, v := range c.Values {
			if strings.Contains(v, "${") {
				return true
			}
		}
	}
	return false
}

func versionName(v string) string {
	if v == "" {
		return "(absent, i.e. 2008-10-17)"
	}
	return v
}

func describe(s policy.Statement) string {
	if s.Sid != "" {
		return "\"" + s.Sid + "\""
	}
	if s.Pos.Line > 0 {
		return "at line " + strconv.Itoa(s.Pos.Line)
	}
	return "without Sid"
}
