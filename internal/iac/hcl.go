package iac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// block is one Terraform block, rendered as HCL or as Terraform JSON.
type block struct {
	typ    string
	labels []string
	items  []item
}

// item is an attribute (val set) or a nested block (blk set).
type item struct {
	name string
	val  any
	blk  *block
}

// ref is a reference written bare in JSON too (depends_on, provider, to).
type ref string

// expr is an HCL expression; JSON wraps it in "${...}".
type expr string

// obj is an object of string values, in order.
type obj [][2]string

// tmpl is an HCL string template with interpolations, written as is
// (without its quotes) in both syntaxes.
type tmpl string

func newBlock(typ string, labels ...string) *block { return &block{typ: typ, labels: labels} }

func (b *block) set(name string, v any) *block {
	b.items = append(b.items, item{name: name, val: v})
	return b
}

func (b *block) add(c *block) *block {
	b.items = append(b.items, item{blk: c})
	return c
}

// hclString quotes s as an HCL literal, with HCL's escapes (Go's \a or
// \x would not parse); "${" and "%{" start templates, so they are doubled.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func hclValue(v any) string {
	switch v := v.(type) {
	case string:
		return hclString(v)
	case ref:
		return string(v)
	case expr:
		return string(v)
	case tmpl:
		return `"` + string(v) + `"`
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int32:
		return strconv.Itoa(int(v))
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = hclString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []ref:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = string(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic(fmt.Sprintf("iac: no HCL for %T", v))
}

// writeHCL writes b's body at indent depth, aligning the "=" of adjacent
// attributes as terraform fmt does.
func writeHCL(w *bytes.Buffer, items []item, depth int) {
	pad := strings.Repeat("  ", depth)
	for i := 0; i < len(items); {
		if items[i].blk != nil {
			if i > 0 {
				w.WriteString("\n")
			}
			c := items[i].blk
			w.WriteString(pad + c.typ)
			for _, l := range c.labels {
				w.WriteString(" " + strconv.Quote(l))
			}
			w.WriteString(" {\n")
			writeHCL(w, c.items, depth+1)
			w.WriteString(pad + "}\n")
			i++
			continue
		}
		j, width := i, 0
		for ; j < len(items) && items[j].blk == nil; j++ {
			width = max(width, len(items[j].name))
		}
		if i > 0 {
			w.WriteString("\n")
		}
		for ; i < j; i++ {
			v := ""
			if o, ok := items[i].val.(obj); ok {
				v = hclObject(o, pad)
			} else {
				v = hclValue(items[i].val)
			}
			fmt.Fprintf(w, "%s%-*s = %s\n", pad, width, items[i].name, v)
		}
	}
}

func hclObject(o obj, pad string) string {
	width := 0
	for _, kv := range o {
		width = max(width, len(kv[0]))
	}
	var b strings.Builder
	b.WriteString("{\n")
	for _, kv := range o {
		fmt.Fprintf(&b, "%s  %-*s = %s\n", pad, width, kv[0], hclString(kv[1]))
	}
	b.WriteString(pad + "}")
	return b.String()
}

// renderHCL renders top-level blocks separated by blank lines.
func renderHCL(header string, blocks []*block) []byte {
	var w bytes.Buffer
	w.WriteString(header)
	for i, b := range blocks {
		if i > 0 || header != "" {
			w.WriteString("\n")
		}
		writeHCL(&w, []item{{blk: b}}, 0)
	}
	return w.Bytes()
}

// jsonString escapes templates in a literal, as Terraform JSON reads every
// string as a template.
func jsonString(s string) string {
	s = strings.ReplaceAll(s, "${", "$${")
	return strings.ReplaceAll(s, "%{", "%%{")
}

func jsonValue(v any) any {
	switch v := v.(type) {
	case string:
		return jsonString(v)
	case ref:
		return string(v)
	case expr:
		return "${" + string(v) + "}"
	case tmpl:
		return string(v)
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = jsonString(s)
		}
		return out
	case []ref:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = string(s)
		}
		return out
	case obj:
		out := map[string]any{}
		for _, kv := range v {
			out[kv[0]] = jsonString(kv[1])
		}
		return out
	}
	return v
}

// jsonBody is the Terraform JSON object of a body: attributes by name,
// blocks nested under their type and labels, and blocks that share a type
// and labels gathered into an array.
func jsonBody(items []item) map[string]any {
	out := map[string]any{}
	for _, it := range items {
		if it.blk == nil {
			out[it.name] = jsonValue(it.val)
			continue
		}
		parent, key := out, it.blk.typ
		for _, l := range it.blk.labels {
			next, ok := parent[key].(map[string]any)
			if !ok {
				next = map[string]any{}
				parent[key] = next
			}
			parent, key = next, l
		}
		body := jsonBody(it.blk.items)
		switch prev := parent[key].(type) {
		case nil:
			parent[key] = body
		case map[string]any:
			parent[key] = []any{prev, body}
		case []any:
			parent[key] = append(prev, body)
		}
	}
	return out
}

func renderJSON(comment string, blocks []*block) ([]byte, error) {
	items := make([]item, len(blocks))
	for i, b := range blocks {
		items[i] = item{blk: b}
	}
	body := jsonBody(items)
	if comment != "" {
		body["//"] = comment
	}
	return marshal(body)
}

// marshal is indented JSON without HTML escaping, ending in a newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("iac render json: %w", err)
	}
	return asciiJSON(b.Bytes()), nil
}

// asciiJSON writes every rune past ASCII as a \u escape (a surrogate pair
// past the BMP). HCL's JSON reader, which Terraform uses, refuses some raw
// characters that JSON allows (U+0600 among them), and escapes are read
// by every JSON reader. Outside strings, JSON holds only ASCII.
func asciiJSON(b []byte) []byte {
	if !slices.ContainsFunc([]rune(string(b)), func(r rune) bool { return r >= utf8.RuneSelf }) {
		return b
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf:
			out.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&out, "\\u%04x", r)
		}
	}
	return out.Bytes()
}
