package texttable

import (
	"bytes"
	"io"
	"strings"
)

// Wrap breaks line (one line, no newline) into lines of at most limit
// columns at spaces. Continuation lines keep the line's own indent plus
// two spaces, so a wrapped finding still reads as one item. A word longer
// than a whole line (an ARN, a URL) is cut where the line ends: nothing is
// dropped, the pieces follow each other. Tabs become spaces first.
func Wrap(line string, limit int) []string {
	if limit <= 0 || tabWidth(line) <= limit {
		return []string{line}
	}
	line = strings.ReplaceAll(line, "\t", "  ")
	body := strings.TrimLeft(line, " ")
	indent := line[:len(line)-len(body)]
	cont := indent + "  "
	if StringWidth(cont) >= limit/2 {
		cont = "  "
	}
	var out []string
	cur := indent
	curW := StringWidth(indent)
	start := true // nothing but the indent on cur yet
	for _, word := range strings.Split(body, " ") {
		ww := StringWidth(word)
		sep := 1
		if start {
			sep = 0
		}
		if curW+sep+ww <= limit {
			if !start {
				cur += " "
			}
			cur += word
			curW += sep + ww
			start = false
			continue
		}
		if !start {
			out = append(out, cur)
			cur, curW = cont, StringWidth(cont)
		}
		// The word alone is too long: cut it into line-sized pieces.
		for curW+StringWidth(word) > limit {
			room := max(limit-curW, 1) // an indent wider than the line still makes progress
			piece, rest := splitAt(word, room)
			out = append(out, cur+piece)
			cur, curW = cont, StringWidth(cont)
			word = rest
		}
		cur += word
		curW += StringWidth(word)
		start = word == ""
	}
	if strings.TrimSpace(cur) != "" || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// splitAt cuts s after n columns.
func splitAt(s string, n int) (string, string) {
	used := 0
	for i, r := range s {
		rw := RuneWidth(r)
		if used+rw > n {
			return s[:i], s[i:]
		}
		used += rw
	}
	return s, ""
}

// A Writer wraps every line written through it at limit columns (see
// Wrap); limit 0 passes text through. Close (or Flush) writes a last line
// that did not end in a newline.
type Writer struct {
	w     io.Writer
	limit int
	buf   bytes.Buffer
}

// NewWriter returns a Writer over w.
func NewWriter(w io.Writer, limit int) *Writer { return &Writer{w: w, limit: limit} }

// Write buffers p and writes out each complete line, wrapped.
func (w *Writer) Write(p []byte) (int, error) {
	if w.limit <= 0 {
		return w.w.Write(p)
	}
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf.Next(i + 1))
		if err := w.emit(strings.TrimSuffix(line, "\n"), true); err != nil {
			return len(p), err
		}
	}
}

func (w *Writer) emit(line string, nl bool) error {
	lines := Wrap(line, w.limit)
	s := strings.Join(lines, "\n")
	if nl {
		s += "\n"
	}
	_, err := io.WriteString(w.w, s)
	return err
}

// Flush writes what is left of an unfinished line.
func (w *Writer) Flush() error {
	if w.buf.Len() == 0 {
		return nil
	}
	line := w.buf.String()
	w.buf.Reset()
	return w.emit(line, false)
}

// tabWidth is StringWidth with tabs advancing to the next multiple of 8,
// as a terminal shows them.
func tabWidth(s string) int {
	if !strings.Contains(s, "\t") {
		return StringWidth(s)
	}
	n := 0
	for i, part := range strings.Split(s, "\t") {
		if i > 0 {
			n = (n/8 + 1) * 8
		}
		n += StringWidth(part)
	}
	return n
}
