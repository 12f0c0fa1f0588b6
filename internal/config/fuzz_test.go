package config_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
)

// FuzzParse checks that Parse never panics, that every error it returns
// is one or more *FieldError naming the file, and that a config it accepts
// renders to a file it reads back as the same config (rendered the same:
// an absent list and an empty one are the same setting).
func FuzzParse(f *testing.F) {
	for _, tc := range loadCases(f) {
		f.Add(tc.Config)
	}
	f.Add("version: 1\n---\nbucket: x\n")
	f.Add("version: 1\n...\n--- !!map\n? [a]\n: b\n")
	f.Add("a: &a [*a, *a]\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := config.Parse(strings.NewReader(text), "fuzz.yaml")
		if err != nil {
			var fe *config.FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("error is not a FieldError naming the file: %v", err)
			}
			return
		}
		rendered := config.Render(c)
		again, err := config.Parse(strings.NewReader(string(rendered)), "rendered.yaml")
		if err != nil {
			t.Fatalf("the rendered config does not parse: %v\n%s", err, rendered)
		}
		if twice := config.Render(again); !bytes.Equal(twice, rendered) {
			t.Fatalf("render and parse changed the config:\n%s\nrendered again:\n%s", rendered, twice)
		}
	})
}
