package detect

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// Scope is what a run looks at.
type Scope struct {
	// Since and Until bound event times; zero means open. On Athena an
	// open Since reads the last AthenaDefaultDays days of partitions.
	Since, Until time.Time
	// Accounts and Regions filter the events (empty: all). Accounts is
	// also the set every account of which must have events in the window
	// (with ExpectAccounts).
	Accounts, Regions []string
	// ExpectAccounts are the accounts whose events should be there (the
	// config's); an account without events in the window makes the result
	// unknown for it. Accounts, when given, takes its place.
	ExpectAccounts []string
	// Table is the Athena table (database.table or table); default
	// query.AthenaTable.
	Table string
}

// AthenaDefaultDays is how many days of partitions an Athena run reads
// without a Since.
const AthenaDefaultDays = query.AthenaWindowDays

// Detection is one rule's finding: one event, or one group of a
// correlation.
type Detection struct {
	RuleID      string    `json:"rule_id"`
	Rule        string    `json:"rule"` // the rule's title
	Level       string    `json:"level"`
	Time        time.Time `json:"time"`
	LastTime    time.Time `json:"last_time"`
	Account     string    `json:"account"`
	Region      string    `json:"region"`
	Principal   string    `json:"principal"`
	SourceIP    string    `json:"source_address"`
	EventName   string    `json:"event_name"`
	Count       int64     `json:"count"`
	EventIDs    []string  `json:"event_ids"`
	Group       string    `json:"group,omitempty"` // a correlation's group-by values
	Tags        []string  `json:"tags"`
	Description string    `json:"description"`
	Origin      string    `json:"origin"`
}

// AccountEvents is how many events of an account the window holds.
type AccountEvents struct {
	Account string `json:"account"`
	Events  int64  `json:"events"`
}

// Report is a run's result.
type Report struct {
	Engine     string         `json:"engine"`
	Since      *time.Time     `json:"since"`
	Until      *time.Time     `json:"until"`
	Events     int64          `json:"events"`
	Rules      map[string]int `json:"rules"` // by status
	Detections []Detection    `json:"detections"`
	// Accounts are the events per account in the window.
	Accounts []AccountEvents `json:"accounts"`
	// Unknown says what the run could not know: no events in the window,
	// expected accounts without events, rules that did not run. Empty
	// only when every rule ran over every expected account's events.
	Unknown []string `json:"unknown"`
}

// AtOrAbove reports whether a detection at or above level exists.
func (r *Report) AtOrAbove(level string) bool {
	min := LevelRank(level)
	for _, d := range r.Detections {
		if LevelRank(d.Level) >= min {
			return true
		}
	}
	return false
}

// Dialect is the Sigma dialect of an engine.
func Dialect(eng query.Engine) (sigma.Dialect, error) {
	switch eng.Name() {
	case "duckdb":
		return sigma.DuckDB, nil
	case "athena":
		return sigma.Athena, nil
	}
	return 0, fmt.Errorf("detect: engine %q has no Sigma dialect", eng.Name())
}

// Run runs the catalogue's ready rules (compiled for eng's dialect) over
// the scope: the single-event rules in one scan, each correlation in a
// query of its own. It only reads.
func Run(ctx context.Context, eng query.Engine, cat *Catalog, sc Scope) (*Report, error) {
	d, err := Dialect(eng)
	if err != nil {
		return nil, err
	}
	if cat.compiled == nil || *cat.compiled != d {
		return nil, fmt.Errorf("detect: the rules were not compiled for %s", eng.Name())
	}
	sq := newSQL(d, sc)
	rep := &Report{Engine: eng.Name(), Rules: cat.Counts(), Detections: []Detection{}, Accounts: []AccountEvents{}, Unknown: []string{}}
	if !sc.Since.IsZero() {
		s := sc.Since.UTC()
		rep.Since = &s
	}
	if !sc.Until.IsZero() {
		u := sc.Until.UTC()
		rep.Until = &u
	}
	// A store that lost committed events answers every rule short: no
	// detection is no news then (the store says so when it is opened).
	if l, ok := eng.(interface{ Lost() error }); ok && l.Lost() != nil {
		rep.Unknown = append(rep.Unknown, "the store is missing events it records, so every rule saw less than was delivered: "+l.Lost().Error())
	}
	if err := coverage(ctx, eng, sq, sc, rep); err != nil {
		return nil, err
	}
	// Rules that need the config's values are summed up in one line.
	var needConfig []string
	for _, r := range cat.Rules {
		if r.Status != StatusNotCompiled {
			continue
		}
		if len(r.missing) > 0 {
			needConfig = append(needConfig, r.ID)
			continue
		}
		rep.Unknown = append(rep.Unknown, fmt.Sprintf("rule %s (%s) did not run: %s", r.ID, r.Title, r.Reason))
	}
	if len(needConfig) > 0 {
		rep.Unknown = append(rep.Unknown, fmt.Sprintf("%d rules did not run: their placeholders (the trail, bucket, key or reader role) have no value without a config (the first: %s)",
			len(needConfig), needConfig[0]))
	}
	var simple, corr []*Rule
	for _, r := range cat.Ready() {
		if r.Correlation {
			corr = append(corr, r)
		} else {
			simple = append(simple, r)
		}
	}
	if len(simple) > 0 && rep.Events > 0 {
		ds, err := scan(ctx, eng, sq, simple)
		if err != nil {
			return nil, err
		}
		rep.Detections = append(rep.Detections, ds...)
	}
	var cds []Detection
	for _, r := range corr {
		if rep.Events == 0 {
			break
		}
		ds, err := correlate(ctx, eng, sq, cat, r)
		if err != nil {
			return nil, err
		}
		cds = append(cds, ds...)
	}
	if err := describe(ctx, eng, sq, cds); err != nil {
		return nil, err
	}
	rep.Detections = append(rep.Detections, cds...)
	sort.SliceStable(rep.Detections, func(i, j int) bool {
		a, b := rep.Detections[i], rep.Detections[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return strings.Join(a.EventIDs, ",") < strings.Join(b.EventIDs, ",")
	})
	return rep, nil
}

// coverage counts the window's events per account and says what is
// missing: "no detections" means something only over events that exist.
func coverage(ctx context.Context, eng query.Engine, sq *sqlGen, sc Scope, rep *Report) error {
	rows, err := eng.Query(ctx, sq.coverage())
	if err != nil {
		return fmt.Errorf("detect: count events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	have := map[string]bool{}
	for rows.Next() {
		v := rows.Row()
		a := AccountEvents{Account: str(v[0]), Events: num(v[1])}
		rep.Accounts = append(rep.Accounts, a)
		rep.Events += a.Events
		have[a.Account] = a.Events > 0
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("detect: count events: %w", err)
	}
	if rep.Events == 0 {
		rep.Unknown = append(rep.Unknown, "no events in the window: no rule had anything to look at")
		return nil
	}
	expect := sc.ExpectAccounts
	if len(sc.Accounts) > 0 {
		expect = sc.Accounts
	}
	var missing []string
	for _, a := range expect {
		if !have[a] {
			missing = append(missing, a)
		}
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	if len(missing) > 0 {
		rep.Unknown = append(rep.Unknown, fmt.Sprintf("%d expected account(s) have no events in the window, so nothing is known of them: %s",
			len(missing), strings.Join(missing, ", ")))
	}
	return nil
}

// scan runs every single-event rule in one pass over the events: a row is
// read once and tagged with each rule whose condition it meets.
func scan(ctx context.Context, eng query.Engine, sq *sqlGen, rs []*Rule) ([]Detection, error) {
	rows, err := eng.Query(ctx, sq.scan(rs))
	if err != nil {
		return nil, fmt.Errorf("detect: run %d rules: %w", len(rs), err)
	}
	defer func() { _ = rows.Close() }()
	var out []Detection
	for rows.Next() {
		v := rows.Row()
		t := timeOf(v[1])
		for i, r := range rs {
			if sq.athena() && !truthy(v[scanFixed+i]) || !sq.athena() && num(v[scanFixed]) != int64(i) {
				continue
			}
			out = append(out, Detection{RuleID: r.ID, Rule: r.Title, Level: r.Level, Time: t, LastTime: t,
				Account: str(v[2]), Region: str(v[3]), Principal: str(v[4]), SourceIP: str(v[5]), EventName: str(v[6]),
				Count: 1, EventIDs: []string{str(v[0])}, Tags: tags(r), Description: r.Description, Origin: r.Origin})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("detect: run %d rules: %w", len(rs), err)
	}
	return out, nil
}

func tags(r *Rule) []string {
	if r.Tags == nil {
		return []string{}
	}
	return r.Tags
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case query.JSON:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	case int64:
		return x != 0
	}
	return false
}

// timeOf reads a time as DuckDB (time.Time) or Athena (text) returns it.
func timeOf(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999 UTC", "2006-01-02 15:04:05.999999999 UTC"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}
