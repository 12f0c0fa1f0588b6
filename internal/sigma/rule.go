// Package sigma reads Sigma rules (the detection rule format of the
// SigmaHQ project, https://github.com/SigmaHQ/sigma-specification),
// compiles those over CloudTrail to SQL for the DuckDB store and for the
// CloudTrail table on Athena, and matches them in Go over one raw
// CloudTrail record. Rules for other log sources are skipped and counted;
// a rule that uses something this package does not implement is refused
// with the reason (*UnsupportedError), never compiled in part.
package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Rule is one Sigma rule: a detection over single events, or a
// correlation over the events of other rules.
type Rule struct {
	ID, Title, Status, Level, Description, Author string
	// Name is the rule's name, by which correlations may refer to it.
	Name                             string
	Tags, References, FalsePositives []string
	Logsource                        Logsource
	// Source is the file the rule came from.
	Source string

	// Detection is the rule's detection; nil for a correlation.
	Detection *Detection
	// Correlation is the rule's correlation; nil for a detection.
	Correlation *Correlation
	// ReferencedOnly is set on a rule a correlation refers to without
	// `generate: true`: by the specification it yields no detections of
	// its own.
	ReferencedOnly bool

	// invalid is why the rule cannot be used at all (a broken condition,
	// an unknown modifier), found when it was parsed.
	invalid string
}

// Logsource is the rule's log source.
type Logsource struct{ Product, Service, Category string }

// CloudTrail says whether the log source is AWS CloudTrail (product aws,
// service cloudtrail).
func (l Logsource) CloudTrail() bool {
	return strings.EqualFold(l.Product, "aws") && strings.EqualFold(l.Service, "cloudtrail")
}

// Detection is a rule's search identifiers and condition.
type Detection struct {
	// Searches are the search identifiers, in the file's order.
	Searches []*Search
	// Conditions are the condition strings; several are ORed.
	Conditions []string
	// Timeframe is the obsolete per-rule timeframe, if any.
	Timeframe string

	cond node
}

// Search is one search identifier: a map of field tests (ANDed) or a list
// of such maps (ORed), or a list of keywords.
type Search struct {
	Name string
	// Alternatives are ORed; the tests of one alternative are ANDed.
	Alternatives [][]*FieldTest
	// Keywords are values without a field (a search over the whole
	// event), which this package does not implement.
	Keywords []string
}

// FieldTest is one `field|modifier...: value(s)` of a search.
type FieldTest struct {
	Field     string
	Modifiers []string
	// Values are the values as the rule wrote them; a nil entry is null.
	Values []*string
}

// Correlation is a correlation rule's section.
type Correlation struct {
	Type string
	// Rules are the ids or names of the rules it correlates; Refs are
	// those rules once resolved (same order), nil entries unresolved.
	Rules    []string
	Refs     []*Rule
	GroupBy  []string
	Timespan string
	// Seconds is Timespan in seconds.
	Seconds int64
	// Field is the field whose distinct values a value_count counts.
	Field string
	// Conditions are ANDed: gte 20, or gt 100 and lte 200.
	Conditions []CountCondition
	Generate   bool
	// Aliases is set when the rule defines field aliases (unsupported).
	Aliases bool
}

// CountCondition is one criterion of a correlation's condition.
type CountCondition struct {
	Op string // gt, gte, lt, lte, eq, neq
	N  int64
}

// rawRule is the YAML shape of a rule's metadata.
type rawRule struct {
	Title          string    `yaml:"title"`
	ID             string    `yaml:"id"`
	Name           string    `yaml:"name"`
	Status         string    `yaml:"status"`
	Description    string    `yaml:"description"`
	Author         string    `yaml:"author"`
	Level          string    `yaml:"level"`
	Tags           []string  `yaml:"tags"`
	References     []string  `yaml:"references"`
	FalsePositives []string  `yaml:"falsepositives"`
	Logsource      Logsource `yaml:"logsource"`
	Detection      yaml.Node `yaml:"detection"`
	Correlation    yaml.Node `yaml:"correlation"`
}

// ParseError is a file or document that is not a Sigma rule.
type ParseError struct {
	Source string
	Doc    int // 1-based YAML document number
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("sigma: parse %s (document %d): %s", e.Source, e.Doc, e.Reason)
}

// Parse reads the rules of one file. A file may hold several YAML
// documents (a correlation and the rules it refers to); a correlation's
// references to rules of the same file are resolved here. Parse fails
// only on a document that is not a rule; a rule that is a rule but uses
// something unsupported parses, and Compile says why it cannot run.
func Parse(data []byte, source string) ([]*Rule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var rules []*Rule
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ParseError{Source: source, Doc: doc, Reason: err.Error()}
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if root.Kind != yaml.MappingNode {
			return nil, &ParseError{Source: source, Doc: doc, Reason: "a rule is a YAML map"}
		}
		if a := mapValue(root, "action"); a != nil {
			// The obsolete Sigma 1.0 multi-document actions
			// (global/reset/repeat): refuse rather than misread them.
			return nil, &ParseError{Source: source, Doc: doc, Reason: fmt.Sprintf("action %q documents (Sigma 1.0 rule collections) are not supported", a.Value)}
		}
		var raw rawRule
		if err := root.Decode(&raw); err != nil {
			return nil, &ParseError{Source: source, Doc: doc, Reason: err.Error()}
		}
		r := &Rule{
			ID: raw.ID, Title: raw.Title, Name: raw.Name, Status: raw.Status, Level: raw.Level,
			Description: strings.TrimSpace(raw.Description), Author: raw.Author,
			Tags: raw.Tags, References: raw.References, FalsePositives: raw.FalsePositives,
			Logsource: raw.Logsource, Source: source,
		}
		switch {
		case raw.Correlation.Kind != 0 && raw.Detection.Kind != 0:
			return nil, &ParseError{Source: source, Doc: doc, Reason: "a rule has either a detection or a correlation, not both"}
		case raw.Correlation.Kind != 0:
			c, err := parseCorrelation(&raw.Correlation)
			if err != nil {
				r.invalid = err.Error()
				c = &Correlation{}
			}
			r.Correlation = c
		case raw.Detection.Kind != 0:
			d, err := parseDetection(&raw.Detection)
			if err != nil {
				r.invalid = err.Error()
				d = &Detection{}
			}
			r.Detection = d
		default:
			return nil, &ParseError{Source: source, Doc: doc, Reason: "no detection and no correlation: not a Sigma rule"}
		}
		if r.Title == "" {
			return nil, &ParseError{Source: source, Doc: doc, Reason: "no title"}
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, &ParseError{Source: source, Doc: 1, Reason: "no rule in the file"}
	}
	Resolve(rules)
	return rules, nil
}

// Resolve links the correlations among rules to the rules they name (by
// id or name) and marks those referred to without `generate: true` as
// ReferencedOnly. References already resolved are kept.
func Resolve(rules []*Rule) {
	byKey := map[string]*Rule{}
	for _, r := range rules {
		if r.ID != "" {
			byKey[r.ID] = r
		}
		if r.Name != "" {
			if _, ok := byKey[r.Name]; !ok {
				byKey[r.Name] = r
			}
		}
	}
	for _, r := range rules {
		c := r.Correlation
		if c == nil {
			continue
		}
		if len(c.Refs) != len(c.Rules) {
			c.Refs = make([]*Rule, len(c.Rules))
		}
		for i, k := range c.Rules {
			if c.Refs[i] == nil {
				c.Refs[i] = byKey[k]
			}
			if c.Refs[i] != nil && !c.Generate {
				c.Refs[i].ReferencedOnly = true
			}
		}
	}
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// parseDetection reads the detection map. Errors are reasons the rule is
// unusable.
func parseDetection(n *yaml.Node) (*Detection, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("detection is not a map")
	}
	d := &Detection{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "condition":
			switch v.Kind {
			case yaml.ScalarNode:
				d.Conditions = []string{v.Value}
			case yaml.SequenceNode:
				for _, c := range v.Content {
					if c.Kind != yaml.ScalarNode {
						return nil, errors.New("condition list holds a non-string")
					}
					d.Conditions = append(d.Conditions, c.Value)
				}
			default:
				return nil, errors.New("condition is neither a string nor a list")
			}
		case "timeframe":
			d.Timeframe = v.Value
		default:
			s, err := parseSearch(k.Value, v)
			if err != nil {
				return nil, fmt.Errorf("search %q: %w", k.Value, err)
			}
			d.Searches = append(d.Searches, s)
		}
	}
	if len(d.Conditions) == 0 {
		return nil, errors.New("detection has no condition")
	}
	var alts []node
	for _, c := range d.Conditions {
		nd, err := parseCondition(c, d)
		if err != nil {
			return nil, err
		}
		alts = append(alts, nd)
	}
	if len(alts) == 1 {
		d.cond = alts[0]
	} else {
		d.cond = &nodeOp{op: "or", args: alts}
	}
	return d, nil
}

func parseSearch(name string, v *yaml.Node) (*Search, error) {
	s := &Search{Name: name}
	switch v.Kind {
	case yaml.MappingNode:
		tests, err := parseFieldMap(v)
		if err != nil {
			return nil, err
		}
		s.Alternatives = [][]*FieldTest{tests}
	case yaml.SequenceNode:
		for _, e := range v.Content {
			switch e.Kind {
			case yaml.MappingNode:
				tests, err := parseFieldMap(e)
				if err != nil {
					return nil, err
				}
				s.Alternatives = append(s.Alternatives, tests)
			case yaml.ScalarNode:
				s.Keywords = append(s.Keywords, e.Value)
			default:
				return nil, errors.New("a list item is neither a map nor a value")
			}
		}
		if len(s.Keywords) > 0 && len(s.Alternatives) > 0 {
			return nil, errors.New("a list mixes maps and keywords")
		}
	case yaml.ScalarNode:
		s.Keywords = []string{v.Value}
	default:
		return nil, errors.New("neither a map nor a list")
	}
	return s, nil
}

func parseFieldMap(m *yaml.Node) ([]*FieldTest, error) {
	var tests []*FieldTest
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		parts := strings.Split(k.Value, "|")
		t := &FieldTest{Field: parts[0], Modifiers: parts[1:]}
		switch v.Kind {
		case yaml.ScalarNode:
			t.Values = []*string{scalar(v)}
		case yaml.SequenceNode:
			if len(v.Content) == 0 {
				return nil, fmt.Errorf("field %q has an empty list of values", k.Value)
			}
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("field %q: a value is not a scalar", k.Value)
				}
				t.Values = append(t.Values, scalar(e))
			}
		default:
			return nil, fmt.Errorf("field %q: its value is a map", k.Value)
		}
		tests = append(tests, t)
	}
	return tests, nil
}

// scalar is a YAML scalar as Sigma reads it: a string (numbers and
// booleans as written), nil for null.
func scalar(n *yaml.Node) *string {
	if n.Tag == "!!null" {
		return nil
	}
	s := n.Value
	return &s
}

// PlaceholderNames are the placeholders the rule's values use with the
// expand modifier (for a correlation, those of the rules it refers to),
// sorted: the values a caller must supply for the rule to compile.
func (r *Rule) PlaceholderNames() []string {
	seen := map[string]bool{}
	var walk func(r *Rule)
	walk = func(r *Rule) {
		if r == nil {
			return
		}
		if r.Correlation != nil {
			for _, ref := range r.Correlation.Refs {
				if ref != r {
					walk(ref)
				}
			}
			return
		}
		if r.Detection == nil {
			return
		}
		for _, s := range r.Detection.Searches {
			for _, alt := range s.Alternatives {
				for _, t := range alt {
					if !slices.Contains(t.Modifiers, "expand") {
						continue
					}
					for _, v := range t.Values {
						if v == nil {
							continue
						}
						for _, m := range placeholderRE.FindAllString(strings.ReplaceAll(*v, `\%`, ""), -1) {
							seen[strings.Trim(m, "%")] = true
						}
					}
				}
			}
		}
	}
	walk(r)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
