package cli

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// TestReport_LibraryErrors: libraries name no flags; the one error printer
// adds the hint that does, and the exit code the error calls for.
func TestReport_LibraryErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		code     int
		hintHas  string
		noFlagIn bool // the library's own message names no flag
	}{
		{"no public keys", fmt.Errorf("pull: %w", verify.ErrNoKeys), ExitBadInput, "--public-keys FILE", true},
		{"nothing under the prefix", &verify.NothingFoundError{What: "digest files", Under: "s3://b/AWSLogs/"}, ExitFailure, "--source, --prefix", true},
		{"no region", fmt.Errorf("s3: %w", s3.ErrNoRegion), ExitBadInput, "--region", true},
		{"bucket elsewhere", fmt.Errorf("list: %w: %w", s3.ErrWrongRegion, errors.New("PermanentRedirect")), ExitFailure, "--region", true},
		{"demo options", fmt.Errorf("%w: at least 2 accounts are needed", demo.ErrOptions), ExitBadInput, "--accounts", true},
		{"backup id", fmt.Errorf("backup id %q is not of the form: %w", "x", plan.ErrNoBackup), ExitBadInput, "rollback --list", true},
		{"a hint of its own wins", badInput(fmt.Errorf("pull: %w", verify.ErrNoKeys), "own hint"), ExitBadInput, "own hint", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			if code := report(&w, tc.err); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			msg, hint, _ := strings.Cut(w.String(), "Try: ")
			if !strings.Contains(hint, tc.hintHas) {
				t.Errorf("hint %q does not name %q", hint, tc.hintHas)
			}
			if tc.noFlagIn && strings.Contains(msg, "--") {
				t.Errorf("the library's message names a flag: %q", msg)
			}
		})
	}
}

// TestLibraryErrorsNameNoFlags: no error built outside internal/cli names
// a trailwarden flag (errors.New and fmt.Errorf strings with "--"); an AWS
// CLI command quoted as advice ("aws kms describe-key --key-id") may.
func TestLibraryErrorsNameNoFlags(t *testing.T) {
	flag := regexp.MustCompile(`(^|[^a-z0-9-])--[a-z]`)
	awsCommand := regexp.MustCompile(`aws [a-z0-9-]+ [a-z0-9-]+ [^"]*--[a-z]`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "cli" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			isNew := ok && pkg.Name == "errors" && sel.Sel.Name == "New"
			isErrorf := ok && pkg.Name == "fmt" && sel.Sel.Name == "Errorf"
			if !isNew && !isErrorf {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if ok && flag.MatchString(lit.Value) && !awsCommand.MatchString(lit.Value) {
				t.Errorf("%s: error names a flag: %s", path, lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
