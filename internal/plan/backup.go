package plan

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/safefile"
)

// BackupVersion is the version of the backup file format. Version 2 has
// snake_case keys; Load reads version 1 (camelCase) too.
const BackupVersion = 2

// upgradeV1 rewrites a version 1 backup's camelCase keys as version 2
// names them (keyArn is key_arn). A backup has no map keyed by data, so
// every key is a field name.
func upgradeV1(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[snakeCase(k)] = walk(e)
			}
			return out
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	m, ok := walk(v).(map[string]any)
	if !ok {
		return data, nil
	}
	m["version"] = BackupVersion
	return json.Marshal(m)
}

// snakeCase is keyArn as key_arn.
func snakeCase(k string) string {
	var b strings.Builder
	for _, r := range k {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Backup statuses.
const (
	StatusApplying           = "applying"
	StatusApplied            = "applied"
	StatusFailedRolledBack   = "failed, rolled back"
	StatusRolledBack         = "rolled back"
	StatusRollbackIncomplete = "rollback incomplete"
)

// Backup is the record of one apply run: every step's calls with the calls
// that undo them (which hold the previous policies and settings), and how
// far the run and any rollback got. It is rewritten after every call, so
// after a crash it still says what was changed.
type Backup struct {
	Version int          `json:"version"`
	ID      string       `json:"id"`
	Created time.Time    `json:"created"`
	Updated time.Time    `json:"updated"`
	Status  string       `json:"status"`
	Steps   []BackupStep `json:"steps"`
	// Failure is the error that stopped the run.
	Failure string `json:"failure,omitempty"`
	// RollbackError is the undo call that failed, when a rollback stopped.
	RollbackError string `json:"rollback_error,omitempty"`
}

// BackupStep is one applied step.
type BackupStep struct {
	Kind    Kind   `json:"kind"`
	Account string `json:"account"`
	Region  string `json:"region,omitempty"`
	Name    string `json:"name"`
	Change  Change `json:"change"`
	Calls   []Call `json:"calls"`
	// Irreversible says why the step cannot be undone; a rollback
	// reverts what it can of it (its calls' undos) and reports the rest.
	Irreversible string `json:"irreversible,omitempty"`
	// Done counts the calls that completed; Undone counts, from the last
	// done call backwards, those a rollback has reverted.
	Done   int `json:"done"`
	Undone int `json:"undone"`
}

// Title names the step's resource for people.
func (b BackupStep) Title() string {
	return Step{Kind: b.Kind, Account: b.Account, Region: b.Region, Name: b.Name}.Title()
}

// Backups is a folder of backup files, one per apply run.
type Backups struct{ Dir string }

// idPattern is what NewID makes; Load refuses anything else, so an id
// cannot name a file outside the folder.
var idPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$`)

// NewID is a run id: the UTC time, then a short random suffix so two runs
// in one second do not collide.
func NewID(now time.Time) (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("backup id: %w", err)
	}
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}

func (b Backups) path(id string) (string, error) {
	if !idPattern.MatchString(id) {
		return "", fmt.Errorf("%w: id %q is not of the form 20260101T120000Z-a1b2c3", ErrNoBackup, id)
	}
	return filepath.Join(b.Dir, id+".json"), nil
}

// Save writes the backup atomically, readable only by its owner: it holds
// policies, which say who can read the logs.
func (b Backups) Save(bk *Backup) error {
	path, err := b.path(bk.ID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return fmt.Errorf("save backup %s: %w", bk.ID, err)
	}
	data, err := json.MarshalIndent(bk, "", "  ")
	if err != nil {
		return fmt.Errorf("save backup %s: %w", bk.ID, err)
	}
	return safefile.Write(path, append(data, '\n'), 0o600)
}

// ErrNoBackup is returned by Load for an id with no file.
var ErrNoBackup = errors.New("no such backup")

// Load reads one backup.
func (b Backups) Load(id string) (*Backup, error) {
	path, err := b.path(id)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load backup %s from %s: %w", id, b.Dir, ErrNoBackup)
	}
	if err != nil {
		return nil, fmt.Errorf("load backup %s: %w", id, err)
	}
	var head struct {
		Version int `json:"version"`
	}
	if json.Unmarshal(data, &head) == nil && head.Version == 1 {
		if up, err := upgradeV1(data); err == nil {
			data = up
		}
	}
	var bk Backup
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bk); err != nil {
		return nil, fmt.Errorf("load backup %s: %s is not a backup file: %w", id, path, err)
	}
	if bk.Version != BackupVersion || bk.ID != id {
		return nil, fmt.Errorf("load backup %s: %s has version %d and id %q, want version %d and id %q", id, path, bk.Version, bk.ID, BackupVersion, id)
	}
	return &bk, nil
}

// List returns every backup in the folder, oldest first; a missing folder
// is an empty list.
func (b Backups) List() ([]*Backup, error) {
	entries, err := os.ReadDir(b.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []*Backup
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !idPattern.MatchString(id) {
			continue
		}
		bk, err := b.Load(id)
		if err != nil {
			return nil, err
		}
		out = append(out, bk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// inEffect reports whether a run's changes may still be live: it applied
// some calls and was not (wholly) rolled back.
func (bk *Backup) inEffect() bool {
	return bk.Status != StatusRolledBack && bk.Status != StatusFailedRolledBack
}

// resources names what a run changed, one key per step with a done call.
func (bk *Backup) resources() map[string]bool {
	out := map[string]bool{}
	for _, st := range bk.Steps {
		if st.Done > 0 {
			out[st.Title()] = true
		}
	}
	return out
}

// LaterRuns returns the runs after id whose changes are still in effect on
// a resource run id changed. Rolling id back first would restore its old
// state over theirs; they are undone newest first.
func (b Backups) LaterRuns(id string) ([]*Backup, error) {
	target, err := b.Load(id)
	if err != nil {
		return nil, err
	}
	all, err := b.List()
	if err != nil {
		return nil, err
	}
	mine := target.resources()
	var out []*Backup
	for _, bk := range all {
		if bk.ID <= id || !bk.inEffect() {
			continue
		}
		for r := range bk.resources() {
			if mine[r] {
				out = append(out, bk)
				break
			}
		}
	}
	return out, nil
}
