package batch

import (
	"sort"
)

// Column indexes in textColumns of the deduplication key.
const (
	eventIDColumn   = 0
	recipientColumn = 12
)

// DropSeen marks the rows whose (eventID, recipientAccountId) is in seen,
// or repeats an earlier row, as not to insert, adds the others' keys to
// seen as generation gen, and returns the dropped rows. Records without an
// eventID cannot be matched and are always kept.
func (b *Events) DropSeen(seen *Seen, gen uint64) []int32 {
	ids, rcpt := &b.text[eventIDColumn], &b.text[recipientColumn]
	var dup []int32
	var key []byte
	for r := range b.rows {
		id, ok := ids.value(r)
		if !ok {
			continue
		}
		key = append(key[:0], id...)
		key = append(key, 0)
		if v, ok := rcpt.value(r); ok {
			key = append(key, 1)
			key = append(key, v...)
		}
		if !seen.add(key, gen) {
			dup = append(dup, int32(r)) //nolint:gosec // rows < 2^31
		}
	}
	b.Drop(dup)
	return dup
}

// Drop marks rows as not to insert and counts them as their files'
// duplicates.
func (b *Events) Drop(rows []int32) {
	for _, r := range rows {
		if !b.keep.get(int(r)) {
			continue
		}
		b.keep.set(int(r), false)
		b.files[b.fileOf(int(r))].Duplicates++
	}
}

// fileOf finds the file holding row r (files are in row order).
func (b *Events) fileOf(r int) int {
	lo, hi := 0, len(b.files)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if b.files[mid].First <= r {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// Keys sums up the deduplication keys of the rows still kept: how many
// have an eventID, whether all of those have an event time, the time
// range, and their distinct recipient accounts (nil when one has none).
type Keys struct {
	Rows        int
	Timed       bool
	First, Last int64
	Recipients  []string
}

// Keys returns the batch's Keys.
func (b *Events) Keys() Keys { return KeysOf(b.Spans()) }

// KeysOf sums up Spans into Keys, so a caller that has the spans does not
// walk the rows again.
func KeysOf(spans map[string]Span) Keys {
	k := Keys{Timed: true}
	timed := false
	for r, s := range spans {
		k.Rows += s.Rows
		k.Timed = k.Timed && !s.Untimed
		switch {
		case !s.set:
		case !timed:
			k.First, k.Last, timed = s.First, s.Last, true
		default:
			k.First, k.Last = min(k.First, s.First), max(k.Last, s.Last)
		}
		k.Recipients = append(k.Recipients, r)
	}
	if _, ok := spans[NoRecipient]; ok {
		k.Recipients = nil
	}
	sort.Strings(k.Recipients)
	return k
}

// Compact removes the dropped rows, so the batch can be inserted whole:
// a filter on DuckDB's scan of an Arrow stream is not safe (see
// duckdb.Loader). The files' row ranges shrink to match; rows are
// renumbered.
func (b *Events) Compact() {
	b.Abort()
	if b.keep.nulls() == 0 {
		return
	}
	keep := b.keep
	keep.bits = append([]byte(nil), b.keep.bits...)
	for i := range b.text {
		b.text[i].compact(&keep)
	}
	b.eventTime.compact(&keep)
	b.readOnly.compact(&keep)
	b.mgmt.compact(&keep)
	b.eventDate.compact(&keep)
	b.file.compact(&keep)
	c := &b.id
	c.valid.compact(&keep)
	for _, t := range c.texts() {
		t.compact(&keep)
	}
	c.session.compact(&keep)
	c.attributes.compact(&keep)
	c.created.compact(&keep)
	c.mfa.compact(&keep)
	c.issuer.compact(&keep)
	first := 0
	for i := range b.files {
		f := &b.files[i]
		kept := 0
		for r := f.First; r < f.First+f.Rows; r++ {
			if keep.get(r) {
				kept++
			}
		}
		f.First, f.Rows = first, kept
		first += kept
	}
	b.rows = first
	b.row.truncate(0)
	b.keep.truncate(0)
	for r := range first {
		b.row.add(int32(r), true) //nolint:gosec // rows < 2^31
		b.keep.add(true)
	}
}

// Span is the event-time range of rows; Untimed says some have no event
// time, so they could match an event at any time. Rows counts them.
type Span struct {
	First, Last int64
	Untimed     bool
	Rows        int
	set         bool
}

func (s *Span) add(t int64, timed bool) {
	s.Rows++
	switch {
	case !timed:
		s.Untimed = true
	case !s.set:
		s.First, s.Last, s.set = t, t, true
	default:
		s.First, s.Last = min(s.First, t), max(s.Last, t)
	}
}

// Merge widens s to cover o.
func (s Span) Merge(o Span) Span {
	rows := s.Rows + o.Rows
	if o.set {
		s.add(o.First, true)
		s.add(o.Last, true)
	}
	s.Untimed = s.Untimed || o.Untimed
	s.Rows = rows
	return s
}

// Overlaps says whether rows of s and o could be the same events.
func (s Span) Overlaps(o Span) bool {
	if s.Untimed || o.Untimed {
		return true
	}
	return s.set && o.set && s.First <= o.Last && o.First <= s.Last
}

// SpanOf is a Span from a stored range; ok is false when the range is
// empty (no timed rows).
func SpanOf(first, last int64, ok, untimed bool) Span {
	return Span{First: first, Last: last, set: ok, Untimed: untimed}
}

// NoRecipient is the Spans key of rows without a recipientAccountId.
const NoRecipient = "\x00"

// Spans returns the time span of the kept rows that have an eventID, per
// recipient account (NoRecipient for rows without one).
func (b *Events) Spans() map[string]Span {
	out := map[string]Span{}
	ids, rcpt := &b.text[eventIDColumn], &b.text[recipientColumn]
	for r := range b.rows {
		if _, ok := ids.value(r); !ok || !b.keep.get(r) {
			continue
		}
		key := NoRecipient
		if v, ok := rcpt.value(r); ok {
			key = string(v)
		}
		s := out[key]
		s.add(b.eventTime.v[r], b.eventTime.valid.get(r))
		out[key] = s
	}
	return out
}
