// Package texttable is the one renderer of the CLI's text tables and the
// wrapper of its prose: output fits a terminal of Width columns unless the
// caller asks for everything (width 0, the commands' --wide). Cells that do
// not fit are shortened with an ellipsis (…); prose is wrapped at spaces.
package texttable

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Width is the terminal width the CLI's text output fits by default.
const Width = 80

// Ellipsis ends a cell that was shortened.
const Ellipsis = "…"

// A Column is one column of a Table.
type Column struct {
	Name string
	// Right aligns the column's cells to the right (numbers).
	Right bool
	// Min is the narrowest the column is shortened to when the table does
	// not fit; 0 means the header's width. Columns that must stay whole
	// (account IDs, verdicts) set Min to their widest value.
	Min int
}

// A Table is a header and rows of cells, printed with two spaces between
// columns and a prefix (an indent) before each line.
type Table struct {
	Columns []Column
	Rows    [][]string
	Prefix  string
	// Rule prints a line of dashes under the header.
	Rule bool
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// DefaultMin is the narrowest a column is shortened to unless its Column
// says otherwise: an account ID (12 digits) stays whole.
const DefaultMin = 12

// Fit returns each column's width so that a line of them (two spaces
// apart, after prefix columns of indent) fits limit (0: no limit), and how
// many leading columns are shown. The widest columns give way first, each
// down to its floor; when even the floors do not fit, columns are left out
// from the right (the first is always shown).
func Fit(natural, floor []int, prefix, limit int) ([]int, int) {
	w := append([]int(nil), natural...)
	shown := len(w)
	if limit <= 0 {
		return w, shown
	}
	sum := func(n int, v []int) int {
		t := prefix + 2*max(n-1, 0)
		for _, x := range v[:n] {
			t += x
		}
		return t
	}
	fl := make([]int, len(w))
	for i := range w {
		fl[i] = min(floor[i], w[i])
	}
	for shown > 1 && sum(shown, fl) > limit {
		shown--
	}
	w = w[:shown]
	for over := sum(shown, w) - limit; over > 0; over-- {
		best := -1
		for i := range w {
			if w[i] > fl[i] && (best < 0 || w[i] > w[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		w[best]--
	}
	return w, shown
}

// Floors returns each column's floor for Fit: its Min, or DefaultMin.
func (t *Table) floors() []int {
	f := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		f[i] = c.Min
		if f[i] == 0 {
			f[i] = DefaultMin
		}
	}
	return f
}

// Natural returns each column's width with nothing shortened.
func (t *Table) natural() []int {
	w := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		w[i] = StringWidth(c.Name)
	}
	for _, r := range t.Rows {
		for i := range w {
			if i < len(r) {
				w[i] = max(w[i], StringWidth(Clean(r[i])))
			}
		}
	}
	return w
}

// Render writes the table to out, fitting limit columns (0: no limit).
// Columns left out to fit are named on a last line.
func (t *Table) Render(out io.Writer, limit int) error {
	w, shown := Fit(t.natural(), t.floors(), StringWidth(t.Prefix), limit)
	var b bytes.Buffer
	hdr := make([]string, len(t.Columns))
	right := make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		hdr[i] = c.Name
		right[i] = c.Right
	}
	b.WriteString(Line(t.Prefix, hdr, w, nil))
	if t.Rule {
		b.WriteString(RuleLine(t.Prefix, w))
	}
	for _, r := range t.Rows {
		b.WriteString(Line(t.Prefix, r, w, right))
	}
	if shown < len(t.Columns) {
		b.WriteString(HiddenNote(t.Prefix, hdr[shown:], limit))
	}
	_, err := out.Write(b.Bytes())
	return err
}

// Line formats cells into the widths (a column past len(widths) is not
// shown), shortening and padding each, without trailing spaces.
func Line(prefix string, cells []string, widths []int, right []bool) string {
	var l strings.Builder
	l.WriteString(prefix)
	for i, wd := range widths {
		if i > 0 {
			l.WriteString("  ")
		}
		s := ""
		if i < len(cells) {
			s = Truncate(Clean(cells[i]), wd)
		}
		pad := strings.Repeat(" ", max(0, wd-StringWidth(s)))
		if i < len(right) && right[i] {
			l.WriteString(pad + s)
		} else {
			l.WriteString(s + pad)
		}
	}
	return strings.TrimRight(l.String(), " ") + "\n"
}

// RuleLine is a line of dashes under each column.
func RuleLine(prefix string, widths []int) string {
	d := make([]string, len(widths))
	for i, x := range widths {
		d[i] = strings.Repeat("-", x)
	}
	return Line(prefix, d, widths, nil)
}

// HiddenNote names the columns left out to fit, itself wrapped to fit.
func HiddenNote(prefix string, names []string, limit int) string {
	return strings.Join(Wrap(prefix+"(not shown, to fit "+strconv.Itoa(limit)+" columns: "+strings.Join(names, ", ")+")", limit), "\n") + "\n"
}

// RuneWidth is how many terminal columns r takes: two for East Asian wide
// and fullwidth characters, none for combining marks, one otherwise.
func RuneWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	if r >= 0x300 && r <= 0x36f {
		return 0
	}
	return 1
}

// StringWidth is how many terminal columns s takes. Colour escapes
// (ESC [ ... m) take none; a tab counts as one (Clean and Wrap turn tabs
// into spaces).
func StringWidth(s string) int {
	n := 0
	esc := 0 // 1 after ESC, 2 inside ESC [ ...
	for _, r := range s {
		switch {
		case esc == 1 && r == '[':
			esc = 2
			continue
		case esc == 2:
			if r >= 0x40 && r <= 0x7e {
				esc = 0
			}
			continue
		case r == 0x1b:
			esc = 1
			continue
		}
		esc = 0
		n += RuneWidth(r)
	}
	return n
}

// Truncate shortens s to at most n columns, ending in the ellipsis when
// anything was cut.
func Truncate(s string, n int) string {
	if StringWidth(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := RuneWidth(r)
		if used+rw > n-1 {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	b.WriteString(Ellipsis)
	return b.String()
}

// Clean makes s safe for one cell of a terminal: control characters (a
// logged value could carry escape sequences), bidirectional overrides and
// invalid UTF-8 become spaces.
func Clean(s string) string {
	ok := true
	for _, r := range s {
		if unsafeRune(r) || r == utf8.RuneError {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
}

func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
