package session

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Profiles lists the profiles of the shared AWS config and credentials
// files, sorted, as the AWS CLI finds them: AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials.
// In the config file a profile is [default] or [profile NAME] (other
// sections, such as [sso-session NAME], are not profiles); in the
// credentials file every [NAME] is one. A file that cannot be read adds
// nothing: the list is for shell completion.
func Profiles() []string {
	home, _ := os.UserHomeDir()
	cfg := os.Getenv("AWS_CONFIG_FILE")
	if cfg == "" && home != "" {
		cfg = filepath.Join(home, ".aws", "config")
	}
	creds := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if creds == "" && home != "" {
		creds = filepath.Join(home, ".aws", "credentials")
	}
	var out []string
	out = append(out, sections(cfg, true)...)
	out = append(out, sections(creds, false)...)
	slices.Sort(out)
	return slices.Compact(out)
}

// sections reads the profile names of one file.
func sections(path string, config bool) []string {
	if path == "" {
		return nil
	}
	f, err := os.Open(path) //nolint:gosec // the AWS config files the user's environment names, as the AWS CLI reads them
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, ok := strings.CutPrefix(line, "[")
		if !ok {
			continue
		}
		if name, ok = strings.CutSuffix(name, "]"); !ok {
			continue
		}
		name = strings.TrimSpace(name)
		if config && name != "default" {
			if name, ok = strings.CutPrefix(name, "profile "); !ok {
				continue
			}
			name = strings.TrimSpace(name)
		}
		if name != "" && !strings.ContainsAny(name, " \t") {
			out = append(out, name)
		}
	}
	return out
}
