package sigma

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// checkCorrelation refuses what this package does not implement and
// returns the referenced detections, prepared.
func (r *Rule) checkCorrelation(ph Placeholders) ([]*prepared, error) {
	if err := r.usable(); err != nil {
		return nil, err
	}
	c := r.Correlation
	switch c.Type {
	case "event_count", "value_count":
	case "temporal", "temporal_ordered", "value_sum", "value_avg", "value_percentile":
		return nil, r.unsupported(fmt.Sprintf("correlation type %s is not supported (event_count and value_count are)", c.Type))
	default:
		return nil, r.unsupported(fmt.Sprintf("unknown correlation type %q", c.Type))
	}
	if c.Aliases {
		return nil, r.unsupported("correlation aliases are not supported")
	}
	if c.Type == "value_count" && c.Field == "" {
		return nil, r.unsupported("a value_count correlation needs condition.field")
	}
	if c.Type == "event_count" && c.Field != "" {
		return nil, r.unsupported("an event_count correlation takes no condition.field")
	}
	var out []*prepared
	for i, k := range c.Rules {
		ref := c.Refs[i]
		if ref == nil {
			return nil, r.unsupported(fmt.Sprintf("refers to rule %q, which is not loaded", k))
		}
		if ref.Correlation != nil {
			return nil, r.unsupported(fmt.Sprintf("refers to correlation %q: chained correlations are not supported", k))
		}
		p, err := ref.prepare(ph)
		if err != nil {
			return nil, r.unsupported(fmt.Sprintf("refers to rule %q: %v", k, err))
		}
		out = append(out, p)
	}
	for _, f := range append(append([]string{}, c.GroupBy...), c.Field) {
		if f == "" {
			continue
		}
		if _, err := parseField(f); err != nil {
			return nil, r.wrap(err)
		}
	}
	return out, nil
}

func countCond(c *Correlation, n string) string {
	ops := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}
	var parts []string
	for _, cc := range c.Conditions {
		parts = append(parts, n+" "+ops[cc.Op]+" "+strconv.FormatInt(cc.N, 10))
	}
	return strings.Join(parts, " AND ")
}

// compileCorrelation writes a correlation's SELECT. Each event matching
// one of the rules opens a window of the timespan from its time; a
// window whose count (events, or distinct values of the field) meets the
// condition fires; overlapping firing windows of one group are one
// episode, one row.
func compileCorrelation(r *Rule, d Dialect, ph Placeholders, o Options) (*Compiled, error) {
	preps, err := r.checkCorrelation(ph)
	if err != nil {
		return nil, err
	}
	c := r.Correlation
	g := &gen{d: d}
	var wheres []string
	for _, p := range preps {
		w, err := g.cond(p, p.cond)
		if err != nil {
			return nil, r.wrap(fmt.Errorf("refers to rule %q: %w", p.rule.Title, err))
		}
		wheres = append(wheres, w)
	}
	where := join(wheres, " OR ")

	idCol, timeCol := "event_id", "event_time"
	if d == Athena {
		idCol, timeCol = "eventid", "from_iso8601_timestamp(eventtime)"
	}
	var cols, gcols, on, aCols []string
	for i, f := range c.GroupBy {
		fr, _ := parseField(f)
		v, err := g.value(fr)
		if err != nil {
			return nil, r.wrap(err)
		}
		gc := "g" + strconv.Itoa(i)
		cols = append(cols, v+" AS "+gc)
		gcols = append(gcols, gc)
		aCols = append(aCols, "a."+gc)
		on = append(on, "a."+gc+" IS NOT DISTINCT FROM b."+gc)
	}
	count := "count(*)"
	if c.Type == "value_count" {
		fr, _ := parseField(c.Field)
		v, err := g.value(fr)
		if err != nil {
			return nil, r.wrap(err)
		}
		cols = append(cols, v+" AS v")
		count = "count(DISTINCT b.v)"
	}
	interval := "INTERVAL " + strconv.FormatInt(c.Seconds, 10) + " SECOND"
	list, ids := "list", "list_sort(list_distinct(flatten(list(ids))))"
	if d == Athena {
		interval = "INTERVAL '" + strconv.FormatInt(c.Seconds, 10) + "' SECOND"
		list, ids = "array_agg", "array_sort(array_distinct(flatten(array_agg(ids))))"
	}
	on = append(on, "b.event_time >= a.event_time", "b.event_time <= a.event_time + "+interval)
	partition := ""
	if len(gcols) > 0 {
		partition = "PARTITION BY " + strings.Join(gcols, ", ") + " "
	}
	sel := append([]string{idCol + " AS event_id", timeCol + " AS event_time"}, cols...)
	var b strings.Builder
	fmt.Fprintf(&b, "WITH m AS (\n  SELECT row_number() OVER () AS rn, %s\n  FROM %s\n  WHERE %s\n),\n", strings.Join(sel, ", "), o.Table, filtered(where, o.Filter))
	groupA := append([]string{"a.rn", "a.event_time"}, aCols...)
	if c.Type == "event_count" && d == DuckDB {
		// A window count finds the windows that fire in one sorted pass;
		// only those are joined back for their event ids. The self-join
		// below counts every window by pairing each event with every
		// other of its group, which grows with the square of a busy
		// group's events (1.5 to 4 s of the built-in rules' 2.85 s on the
		// 2-million-event bench store, for AccessDenied by principal).
		// The frame is the join's: peers at the same time are in it.
		fmt.Fprintf(&b, "c AS (\n  SELECT *, count(*) OVER win AS n, max(event_time) OVER win AS end_time\n  FROM m\n  WINDOW win AS (%sORDER BY event_time RANGE BETWEEN CURRENT ROW AND %s FOLLOWING)\n),\n",
			partition, interval)
		onF := append(append([]string{}, on[:len(on)-1]...), "b.event_time <= a.end_time")
		fmt.Fprintf(&b, "w AS (\n  SELECT %s, a.end_time, a.n, list(b.event_id) AS ids\n  FROM (SELECT * FROM c WHERE %s) a JOIN m b ON %s\n  GROUP BY %s, a.end_time, a.n\n),\n",
			strings.Join(append([]string{"a.rn", "a.event_time AS start_time"}, aCols...), ", "), countCond(c, "n"),
			strings.Join(onF, " AND "), strings.Join(groupA, ", "))
	} else {
		fmt.Fprintf(&b, "w AS (\n  SELECT %s, max(b.event_time) AS end_time, %s AS n, %s(b.event_id) AS ids\n  FROM m a JOIN m b ON %s\n  GROUP BY %s\n  HAVING %s\n),\n",
			strings.Join(append([]string{"a.rn", "a.event_time AS start_time"}, aCols...), ", "), count, list,
			strings.Join(on, " AND "), strings.Join(groupA, ", "), countCond(c, count))
	}
	fmt.Fprintf(&b, "p AS (\n  SELECT *, max(end_time) OVER (%sORDER BY start_time, rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end\n  FROM w\n),\n", partition)
	fmt.Fprintf(&b, "e AS (\n  SELECT *, sum(CASE WHEN prev_end IS NOT NULL AND start_time <= prev_end THEN 0 ELSE 1 END) OVER (%sORDER BY start_time, rn ROWS UNBOUNDED PRECEDING) AS episode\n  FROM p\n)\n", partition)
	var outCols []string
	for i, f := range c.GroupBy {
		outCols = append(outCols, gcols[i]+" AS "+quoteIdent(f))
	}
	outCols = append(outCols, "min(start_time) AS first_time", "max(end_time) AS last_time", `max(n) AS "count"`, ids+" AS event_ids")
	fmt.Fprintf(&b, "SELECT %s\nFROM e\nGROUP BY %s\nORDER BY first_time", strings.Join(outCols, ", "), strings.Join(append(gcols, "episode"), ", "))
	return &Compiled{Rule: r, SQL: b.String(), Correlation: true, GroupBy: c.GroupBy}, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Firing is one row of a correlation: a group and an episode of firing
// windows.
type Firing struct {
	// Group are the group-by values (nil for an absent value).
	Group       []*string
	First, Last time.Time
	// Count is the largest count of a firing window of the episode.
	Count int
	// EventIDs are the events of the episode's firing windows, sorted.
	EventIDs []string
}

// Correlate evaluates a correlation over raw CloudTrail records in Go,
// with the semantics of its SQL: each matching event opens a window of
// the timespan from its eventTime; a window whose count meets the
// condition fires; a group's overlapping firing windows are one episode.
func (r *Rule) Correlate(records []map[string]any, ph Placeholders) ([]Firing, error) {
	if r.Correlation == nil {
		return nil, r.unsupported("not a correlation rule")
	}
	preps, err := r.checkCorrelation(ph)
	if err != nil {
		return nil, err
	}
	c := r.Correlation
	type ev struct {
		id  string
		t   time.Time
		v   *string
		key string
		grp []*string
	}
	var groupFields []fieldRef
	for _, f := range c.GroupBy {
		fr, _ := parseField(f)
		groupFields = append(groupFields, fr)
	}
	var valueField fieldRef
	if c.Field != "" {
		valueField, _ = parseField(c.Field)
	}
	groups := map[string][]ev{}
	var order []string
	for _, rec := range records {
		matched := false
		for _, p := range preps {
			if p.match(rec) {
				matched = true
				break
			}
		}
		if !matched {
			continue
		}
		ts, _ := lookup(rec, []string{"eventTime"})
		s, ok := ts.(string)
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			continue
		}
		e := ev{t: t.UTC()}
		if id, ok := text(first(lookup(rec, []string{"eventID"}))); ok {
			e.id = id
		}
		var kb strings.Builder
		for _, f := range groupFields {
			if s, ok := text(first(lookup(rec, f.path))); ok {
				e.grp = append(e.grp, &s)
				kb.WriteString("v" + strconv.Itoa(len(s)) + ":" + s)
			} else {
				e.grp = append(e.grp, nil)
				kb.WriteString("n")
			}
		}
		if c.Field != "" {
			if s, ok := text(first(lookup(rec, valueField.path))); ok {
				e.v = &s
			}
		}
		e.key = kb.String()
		if _, ok := groups[e.key]; !ok {
			order = append(order, e.key)
		}
		groups[e.key] = append(groups[e.key], e)
	}
	span := time.Duration(c.Seconds) * time.Second
	var out []Firing
	for _, k := range order {
		evs := groups[k]
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].t.Before(evs[j].t) })
		type window struct {
			start, end time.Time
			n          int
			ids        []string
		}
		var fired []window
		for _, a := range evs {
			w := window{start: a.t, end: a.t}
			distinct := map[string]bool{}
			for _, b := range evs {
				if b.t.Before(a.t) || b.t.After(a.t.Add(span)) {
					continue
				}
				if b.t.After(w.end) {
					w.end = b.t
				}
				w.ids = append(w.ids, b.id)
				w.n++
				if b.v != nil {
					distinct[*b.v] = true
				}
			}
			if c.Type == "value_count" {
				w.n = len(distinct)
			}
			if meets(c.Conditions, w.n) {
				fired = append(fired, w)
			}
		}
		var cur *Firing
		var curEnd time.Time
		ids := map[string]bool{}
		flush := func() {
			if cur == nil {
				return
			}
			for id := range ids {
				cur.EventIDs = append(cur.EventIDs, id)
			}
			sort.Strings(cur.EventIDs)
			out = append(out, *cur)
			cur, ids = nil, map[string]bool{}
		}
		for _, w := range fired {
			if cur != nil && !w.start.After(curEnd) {
				if w.end.After(curEnd) {
					curEnd = w.end
				}
				cur.Last = curEnd
				cur.Count = max(cur.Count, w.n)
			} else {
				flush()
				cur = &Firing{Group: evs[0].grp, First: w.start, Last: w.end, Count: w.n}
				curEnd = w.end
			}
			for _, id := range w.ids {
				ids[id] = true
			}
		}
		flush()
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].First.Before(out[j].First) })
	return out, nil
}

func first(v any, _ bool) any { return v }

func meets(cs []CountCondition, n int) bool {
	for _, c := range cs {
		var ok bool
		switch c.Op {
		case "gt":
			ok = int64(n) > c.N
		case "gte":
			ok = int64(n) >= c.N
		case "lt":
			ok = int64(n) < c.N
		case "lte":
			ok = int64(n) <= c.N
		case "eq":
			ok = int64(n) == c.N
		case "neq":
			ok = int64(n) != c.N
		}
		if !ok {
			return false
		}
	}
	return true
}
