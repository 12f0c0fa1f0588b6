package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/record"
)

// TestBadContent: what the file's bytes are to blame for is bad, wrapped
// or not; what stops the reading is not.
func TestBadContent(t *testing.T) {
	var p Parser
	var b Events
	_, notLog := p.Append(&b, File{Key: "k"}, gz(`{"logFiles":[]}`), 1<<20)
	_, notGzip := p.Append(&b, File{Key: "k"}, []byte("plain"), 1<<20)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"not a log file, as parsed", notLog, true},
		{"not gzip, as parsed", notGzip, true},
		{"not a log file", fmt.Errorf("read k: %w", record.ErrNotLogFile), true},
		{"corrupt gzip", fmt.Errorf("%w: truncated", digest.ErrCorrupt), true},
		{"trailing data", digest.ErrTrailingData, true},
		{"record too large", fmt.Errorf("x: %w", ErrRecordTooLarge), true},
		{"hash mismatch", ErrHashMismatch, true},
		{"cut connection", io.ErrUnexpectedEOF, false},
		{"cancelled", context.Canceled, false},
		{"other", errors.New("disk full"), false},
		{"none", nil, false},
	} {
		if got := BadContent(tc.err); got != tc.want {
			t.Errorf("%s: BadContent(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
