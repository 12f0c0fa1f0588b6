package inventory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/coverage"
)

// TestExpected: an organization trail's expected accounts are the
// organization's active ones, read live; when that read is denied the set
// is unknown (coverage's UnknownError), never a guess.
func TestExpected(t *testing.T) {
	s := world(t)
	cfg := loadConfig(t)
	if !cfg.Trail.Organization {
		t.Skip("the test config is not an organization trail")
	}
	opt := inventory.Options{Endpoint: s.URL, MaxBackoff: time.Millisecond}
	in := coverage.Input{Config: cfg, Bucket: cfg.Bucket, Prefix: cfg.KeyPrefix}
	e, err := inventory.Expected(context.Background(), in, opt, true)
	if err != nil {
		t.Fatal(err)
	}
	ids := e.IDs()
	if len(ids) != 4 {
		t.Errorf("expected accounts %v, want the organization's 4 active ones", ids)
	}
	s.Deny("organizations", "ListAccounts", "")
	var ue *coverage.UnknownError
	if _, err := inventory.Expected(context.Background(), in, opt, true); !errors.As(err, &ue) || !ue.Organization {
		t.Fatalf("denied ListAccounts: %v, want the organization's accounts unknown", err)
	}
}
