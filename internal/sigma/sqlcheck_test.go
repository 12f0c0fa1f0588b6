package sigma

import (
	"fmt"
	"strings"
)

// CheckSQL is checkSQL, for the external tests.
var CheckSQL = checkSQL

// Functions each dialect's SQL may call: the compiler's vocabulary, each
// checked against the engine's function list (DuckDB 1.4; Trino, the
// engine of Athena v3: json_extract_scalar, json_format, regexp_like,
// from_iso8601_timestamp, array_agg, array_sort, array_distinct, flatten,
// any_match; array is the ARRAY(JSON) type of a cast).
var sqlFunctions = map[Dialect]map[string]bool{
	DuckDB: set("coalesce", "lower", "nullif", "json_extract_string", "json_exists", "regexp_matches", "strftime",
		"row_number", "count", "max", "min", "sum", "list", "list_sort", "list_distinct", "flatten", "try_cast", "cast",
		"list_bool_or", "list_transform", "len", "json_extract"),
	Athena: set("coalesce", "lower", "nullif", "json_extract_scalar", "json_extract", "json_format", "regexp_like",
		"from_iso8601_timestamp", "row_number", "count", "max", "min", "sum", "array_agg", "array_sort",
		"array_distinct", "flatten", "try_cast", "cast", "any_match", "array"),
}

// Words that are followed by a parenthesis without being a call.
var sqlKeywords = set("and", "or", "not", "in", "as", "over", "from", "where", "on", "select", "with", "by", "having")

func set(s ...string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// checkSQL checks the syntax a compiled rule's SQL can get wrong: string
// literals closed (a quote inside doubled), quoted identifiers closed,
// parentheses balanced, and only the dialect's known functions called.
func checkSQL(sql string, d Dialect) error {
	depth := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'':
			j := i + 1
			for {
				k := strings.IndexByte(sql[j:], '\'')
				if k < 0 {
					return fmt.Errorf("string literal at %d is not closed", i)
				}
				j += k + 1
				if j < len(sql) && sql[j] == '\'' {
					j++
					continue
				}
				break
			}
			i = j
		case c == '"':
			k := strings.IndexByte(sql[i+1:], '"')
			if k < 0 {
				return fmt.Errorf("quoted identifier at %d is not closed", i)
			}
			i += k + 2
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			if depth < 0 {
				return fmt.Errorf("unbalanced ) at %d", i)
			}
			i++
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] == '.' || (sql[j]|0x20 >= 'a' && sql[j]|0x20 <= 'z') || (sql[j] >= '0' && sql[j] <= '9')) {
				j++
			}
			word := strings.ToLower(sql[i:j])
			k := j
			for k < len(sql) && sql[k] == ' ' {
				k++
			}
			if k < len(sql) && sql[k] == '(' && !sqlKeywords[word] && !sqlFunctions[d][word] {
				return fmt.Errorf("%s has no function %s", d, word)
			}
			i = j
		case c == ';':
			return fmt.Errorf("a statement separator at %d", i)
		default:
			i++
		}
	}
	if depth != 0 {
		return fmt.Errorf("%d unclosed parentheses", depth)
	}
	return nil
}
