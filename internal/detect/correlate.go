package detect

import (
	"context"
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// correlate runs one correlation rule, compiled with the run's scope, one
// detection per group and episode it returns.
func correlate(ctx context.Context, eng query.Engine, sq *sqlGen, cat *Catalog, r *Rule) ([]Detection, error) {
	filter := sq.scope()
	if names := cat.refNames(r); len(names) > 0 {
		filter += " AND " + sq.nameIn(names)
	}
	comp, err := sigma.CompileWith(r.rule, sq.d, cat.ph, sigma.Options{Table: sq.table(), Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("detect: compile correlation %s: %w", r.ID, err)
	}
	rows, err := eng.Query(ctx, comp.SQL)
	if err != nil {
		return nil, fmt.Errorf("detect: run correlation %s: %w", r.ID, err)
	}
	defer func() { _ = rows.Close() }()
	cols := rows.Columns()
	idx := map[string]int{}
	for i, c := range cols {
		idx[strings.ToLower(c)] = i
	}
	get := func(v []any, name string) any {
		if i, ok := idx[name]; ok {
			return v[i]
		}
		return nil
	}
	var out []Detection
	for rows.Next() {
		v := rows.Row()
		d := Detection{RuleID: r.ID, Rule: r.Title, Level: r.Level, Tags: tags(r), Description: r.Description, Origin: r.Origin,
			Time: timeOf(get(v, "first_time")), LastTime: timeOf(get(v, "last_time")), Count: num(get(v, "count")),
			EventIDs: ids(get(v, "event_ids"))}
		var group []string
		for _, g := range comp.GroupBy {
			val := str(get(v, strings.ToLower(g)))
			group = append(group, g+"="+val)
		}
		d.Group = strings.Join(group, " ")
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("detect: run correlation %s: %w", r.ID, err)
	}
	return out, nil
}

// describe fills the account, region, principal, source address and event
// name of correlation detections from the first event each rests on.
func describe(ctx context.Context, eng query.Engine, sq *sqlGen, ds []Detection) error {
	var first []string
	for _, d := range ds {
		if len(d.EventIDs) > 0 {
			first = append(first, d.EventIDs[0])
		}
	}
	if len(first) == 0 {
		return nil
	}
	rows, err := eng.Query(ctx, sq.events(first))
	if err != nil {
		return fmt.Errorf("detect: describe correlations: %w", err)
	}
	defer func() { _ = rows.Close() }()
	by := map[string][]any{}
	for rows.Next() {
		v := rows.Row()
		by[str(v[0])] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("detect: describe correlations: %w", err)
	}
	for i := range ds {
		if len(ds[i].EventIDs) == 0 {
			continue
		}
		if v, ok := by[ds[i].EventIDs[0]]; ok {
			ds[i].Account, ds[i].Region, ds[i].Principal, ds[i].SourceIP, ds[i].EventName = str(v[2]), str(v[3]), str(v[4]), str(v[5]), str(v[6])
		}
	}
	return nil
}

// ids reads a list of event ids as either engine returns it: a JSON array
// (DuckDB) or Trino's [a, b] text.
func ids(v any) []string {
	s := strings.TrimSpace(str(v))
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if s == "" {
		return []string{}
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.Trim(strings.TrimSpace(p), `"`)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// refNames are the event names every rule a correlation counts requires,
// or nil when one of them does not say.
func (c *Catalog) refNames(r *Rule) []string {
	var out []string
	for _, ref := range r.rule.Correlation.Refs {
		b := c.byRule(ref)
		if b == nil {
			return nil
		}
		names := b.names
		if names == nil {
			names = eventNames(ref)
		}
		if len(names) == 0 {
			return nil
		}
		out = append(out, names...)
	}
	return out
}
