package cli

import (
	"encoding/json"
	"fmt"
	"io"
)

// printJSON is trailwarden's one JSON printer: v indented by two spaces,
// HTML characters (<, >, &) left as they are, and a trailing newline.
// Every --format json goes through it.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
