// Package textdiff renders a unified, line-based diff of two texts, for
// showing people what a policy change does before it is applied.
package textdiff

import (
	"fmt"
	"strings"
)

// maxCells bounds the LCS table; policies are at most tens of KB, so this
// is only reached by hostile input, which then gets a whole-file diff.
const maxCells = 16 << 20

// Unified returns a unified diff from a to b with the given file labels and
// context lines, or "" when the texts are equal.
func Unified(aName, bName, a, b string, context int) string {
	if a == b {
		return ""
	}
	x, y := lines(a), lines(b)
	ops := script(x, y)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for start := 0; start < len(ops); {
		// Find the next change, then grow a hunk around it.
		for start < len(ops) && ops[start].kind == ' ' {
			start++
		}
		if start == len(ops) {
			break
		}
		lo := max(0, start-context)
		hi := start
		for hi < len(ops) {
			if ops[hi].kind != ' ' {
				hi++
				continue
			}
			run := hi
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-hi > 2*context {
				hi = min(run, hi+context)
				break
			}
			hi = run
		}
		writeHunk(&out, ops[lo:hi])
		start = hi
	}
	return out.String()
}

type op struct {
	kind       byte // ' ', '-', '+'
	text       string
	aLine, bLn int
}

func writeHunk(out *strings.Builder, ops []op) {
	aStart, bStart, aN, bN := 0, 0, 0, 0
	for _, o := range ops {
		if o.kind != '+' {
			if aN == 0 {
				aStart = o.aLine
			}
			aN++
		}
		if o.kind != '-' {
			if bN == 0 {
				bStart = o.bLn
			}
			bN++
		}
	}
	// An empty side is numbered by the line before it, as diff -u does.
	if aN == 0 {
		aStart = ops[0].aLine
	}
	if bN == 0 {
		bStart = ops[0].bLn
	}
	fmt.Fprintf(out, "@@ -%d,%d +%d,%d @@\n", aStart, aN, bStart, bN)
	for _, o := range ops {
		out.WriteByte(o.kind)
		out.WriteString(o.text)
		out.WriteByte('\n')
	}
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// script computes an edit script by longest common subsequence.
func script(x, y []string) []op {
	n, m := len(x), len(y)
	if (n+1)*(m+1) > maxCells {
		var ops []op
		for i, l := range x {
			ops = append(ops, op{kind: '-', text: l, aLine: i + 1})
		}
		for j, l := range y {
			ops = append(ops, op{kind: '+', text: l, bLn: j + 1})
		}
		return ops
	}
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{kind: ' ', text: x[i], aLine: i + 1, bLn: j + 1})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, op{kind: '+', text: y[j], aLine: i, bLn: j + 1})
			j++
		default:
			ops = append(ops, op{kind: '-', text: x[i], aLine: i + 1, bLn: j})
			i++
		}
	}
	return ops
}
