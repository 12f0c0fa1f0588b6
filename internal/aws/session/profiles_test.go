package session

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\n[profile audit]\nrole_arn = x\n[ profile  org-admin ]\n"+
		"[sso-session corp]\nsso_region = us-east-1\n[services local]\n[profile]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = x\n[ci]\n# [commented]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	if got, want := Profiles(), []string{"audit", "ci", "default", "org-admin"}; !slices.Equal(got, want) {
		t.Errorf("Profiles() = %q, want %q", got, want)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "missing"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "missing"))
	if got := Profiles(); len(got) != 0 {
		t.Errorf("Profiles() without files = %q", got)
	}
}
