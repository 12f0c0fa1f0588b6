// Package pull copies a CloudTrail bucket's log files into a local store:
// it lists by account, region and day (never the whole bucket at once),
// downloads with bounded concurrency, checks every file against its signed
// digest from the same bytes it parses, and hands the records of verified
// files to the store in batches. What the store has committed is never pulled again, so
// a killed pull resumes where it stopped, without loss or duplicates.
package pull

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// Loaded is what the sink did with a batch.
type Loaded struct {
	Events, Duplicates int
}

// Sink is where pulled files go (the DuckDB store). Prepare removes a
// batch's duplicates, one batch at a time, in order; it runs while Load
// inserts earlier batches, Options.Loaders of them at once. A batch is
// loaded together with the record that its files were ingested, in
// transactions the sink commits when it likes and at Commit: after a
// crash, a file is either stored and recorded or neither. Load and Commit
// may fail with a *LostError and be called again: Load then returns what
// the batch loaded, unless the LostError says it was refused. Once a part
// of a file loaded in parts is rolled back, Load refuses the batches
// holding its later parts until Commit is called.
type Sink interface {
	IngestedKeys(ctx context.Context, prefix string) (map[string]bool, error)
	Prepare(ctx context.Context, b *batch.Events) error
	Load(ctx context.Context, b *batch.Events) (Loaded, error)
	Commit(ctx context.Context) error
}

// LostError is a Sink's error for files it could not store: it rolled
// them back whole (nothing of them is stored or recorded) and goes on
// with the others. The pull loads each of them again alone (unless
// AtCommit), so that a file the sink refuses alone is a bad file, named
// with Reason, and the rest is loaded.
type LostError struct {
	Keys []string
	// Loaded and Files are what earlier Loads reported of the files (to
	// take back from the summary).
	Loaded Loaded
	Files  int
	// Refused says that the batch given to Load was not loaded at all:
	// Load reported nothing of it, and Loaded does not count it.
	Refused bool
	// AtCommit says that the sink could not commit the files, and that
	// loading them again in smaller transactions is not safe: they are
	// bad files then, named with Reason, and not loaded again in this
	// pull (the next one tries them again).
	AtCommit bool
	// Reason is the sink's, on one line.
	Reason string
}

func (e *LostError) Error() string {
	return fmt.Sprintf("%d files rolled back: %s", len(e.Keys), e.Reason)
}

// Options select what to pull.
type Options struct {
	Bucket, Prefix, OrgID string
	Accounts, Regions     []string
	Since, Until          time.Time
	// NoVerify loads files without checking digests (reported as such).
	NoVerify bool
	Keys     *digest.KeySet
	KeysFor  func(ctx context.Context, region string) (*digest.KeySet, error)
	Jobs     int
	// BatchFiles and BatchBytes bound a batch handed to the sink. At most
	// one batch per parsing core, one being prepared and one per loader
	// are held at once.
	BatchFiles int
	BatchBytes int
	// Loaders is how many batches the sink may be loading at once (1 by
	// default).
	Loaders int
	// InMemoryFile is the largest compressed file read in memory (8 MB
	// by default); larger ones are downloaded to TempDir and streamed.
	InMemoryFile int64
	// TempDir is the folder downloads go to (in a folder of their own,
	// removed when the pull ends): the duckdb's (duckdb.TempDir), which a
	// later pull empties should this one be killed. Required: nothing of
	// a pull goes to the system's temporary folder.
	TempDir  string
	Progress func(Progress)
	// Now is the time the bucket is read at (time.Now by default): digests
	// newer than now minus verify.DeliveryDelay may still be on their way.
	Now time.Time
}

// Progress is the state of a running pull.
type Progress struct {
	FilesTotal, FilesDone int
	Bytes                 int64
	Events                int
	Started               time.Time
}

// BadFile is a file that was not loaded, and why.
type BadFile struct {
	Key     string `json:"key"`
	Problem string `json:"problem"`
}

// Summary is the result of a pull, for people and scripts.
type Summary struct {
	Listed        int   `json:"listed"`
	AlreadyLoaded int   `json:"already_loaded"`
	Loaded        int   `json:"loaded"`
	Events        int   `json:"events"`
	Duplicates    int   `json:"duplicates"`
	Bytes         int64 `json:"bytes"`
	Verified      bool  `json:"verified"`
	// OK is false when the pull found a problem: nothing at all in the
	// window, a bad file (one a valid digest lists that the bucket lacks,
	// or one no digest lists although one should, included), or a gap in
	// a chain.
	OK bool `json:"ok"`
	// Since and Until are the window of delivery times listed.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Unverified files are listed by no valid digest yet, and recent
	// enough that their digest may still come (verify.ShouldBeListed):
	// they are left for the next pull. Older ones are bad files.
	Unverified int       `json:"waiting_for_digest"`
	Bad        []BadFile `json:"bad"`
	// Gaps are the digest report's: times of a chain no valid digest
	// covers, a chain that ends before the others or the window included.
	Gaps    []verify.Gap   `json:"gaps"`
	Digests *verify.Report `json:"digests,omitempty"`
	// RepeatedKeys lists the loaded files with records that repeat a
	// top-level key ("eventID" twice, say). Such a record is loaded all
	// the same, with the last value in the key's column and the earlier
	// ones in extra, and named here, since readers disagree on which value
	// counts. It does not make the pull fail: nothing was lost.
	RepeatedKeys []FileRepeatedKeys `json:"duplicate_keys"`
	// Newest is the newest log file of the bucket's chains, found when
	// the window holds none, so that the window can be moved to it; nil
	// otherwise, or when no chain holds a log file.
	Newest  *LogFile      `json:"newest_log_file,omitempty"`
	Elapsed time.Duration `json:"elapsed"`

	// checked counts, per account and region, the files this pull checked
	// against a digest's hash, for the digest report's chains.
	checked map[[2]string]checkedFiles
	// uncovered are the listed files no valid digest vouched for.
	uncovered []uncovered
}

// FileRepeatedKeys is a loaded file with records that repeat a key: how
// many, and the first few.
type FileRepeatedKeys struct {
	Key     string              `json:"key"`
	Records int                 `json:"records"`
	First   []batch.RepeatedKey `json:"first"`
}

// addRepeated counts a loaded file's (or part's) records that repeat a
// key.
func (s *Summary) addRepeated(f batch.FileRows) {
	if f.RepeatedKeys == 0 {
		return
	}
	for i := range s.RepeatedKeys {
		r := &s.RepeatedKeys[i]
		if r.Key == f.Key {
			r.Records += f.RepeatedKeys
			r.First = append(r.First, f.Repeats[:min(len(f.Repeats), batch.MaxRepeatedKeys-len(r.First))]...)
			return
		}
	}
	s.RepeatedKeys = append(s.RepeatedKeys, FileRepeatedKeys{Key: f.Key, Records: f.RepeatedKeys, First: f.Repeats})
}

// checkedFiles are the log files of a chain a pull checked against their
// digests: how many, how many matched, and the matching files' bytes.
type checkedFiles struct {
	files, valid int
	bytes        int64
}

// countChecked adds a file checked against its digest to its chain.
func (s *Summary) countChecked(account, region string, valid bool, size int64) {
	if s.checked == nil {
		s.checked = map[[2]string]checkedFiles{}
	}
	c := s.checked[[2]string{account, region}]
	c.files++
	if valid {
		c.valid++
		c.bytes += size
	}
	s.checked[[2]string{account, region}] = c
}

// uncountChecked takes back a file counted valid by countChecked that
// turned out bad.
func (s *Summary) uncountChecked(account, region string, size int64) {
	c := s.checked[[2]string{account, region}]
	c.valid--
	c.bytes -= size
	s.checked[[2]string{account, region}] = c
}

// fillLogFiles puts the checked files into the digest report: the pull,
// not the verifier, hashes the log files it loads, so without this the
// report's chains would say no log file was checked.
func (s *Summary) fillLogFiles(r *verify.Report) {
	for i := range r.Chains {
		c := &r.Chains[i]
		n := s.checked[[2]string{c.Account, c.Region}]
		c.LogFiles, c.LogFilesValid, c.Bytes = n.files, n.valid, n.bytes
		r.LogFiles += n.files
		r.LogFilesValid += n.valid
		r.Bytes += n.bytes
	}
}

func (o *Options) defaults() error {
	if o.Jobs <= 0 {
		o.Jobs = 8
	}
	// About 10,000 records: large enough that each insert's fixed cost
	// is small, small enough that the batches held stay well within memory.
	if o.BatchFiles <= 0 {
		o.BatchFiles = 1024
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 8 << 20
	}
	if o.Loaders <= 0 {
		o.Loaders = 1
	}
	if o.InMemoryFile <= 0 {
		o.InMemoryFile = batch.InMemoryFile
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	if o.Until.IsZero() {
		o.Until = o.Now
	}
	if !o.Until.After(o.Since) {
		return fmt.Errorf("pull: the window's end %s is not after its start %s", o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339))
	}
	if o.TempDir == "" {
		return errors.New("pull: no folder for temporary downloads")
	}
	if !o.NoVerify && o.Keys == nil && o.KeysFor == nil {
		return fmt.Errorf("pull: %w", verify.ErrNoKeys)
	}
	return nil
}

// verifyFrom is where verification starts: the hour of the oldest file
// to load (its digest ends after it), or Since if that is later. ok is
// false when nothing needs verifying.
func verifyFrom(todo []object, opt Options) (time.Time, bool) {
	if opt.NoVerify || len(todo) == 0 {
		return time.Time{}, false
	}
	oldest := todo[0].k.FileTime
	for _, o := range todo[1:] {
		if o.k.FileTime.Before(oldest) {
			oldest = o.k.FileTime
		}
	}
	start := oldest.UTC().Truncate(time.Hour)
	if start.Before(opt.Since) {
		start = opt.Since
	}
	return start, true
}

// Run pulls into sink and returns the summary. Bad files are listed in the
// summary and the rest continues; an error means the pull itself stopped.
func Run(ctx context.Context, store objstore.Store, sink Sink, opt Options) (*Summary, error) {
	began := time.Now()
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(opt.TempDir, "pull-")
	if err != nil {
		return nil, fmt.Errorf("pull: temporary folder: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	sum := &Summary{Verified: !opt.NoVerify, Since: opt.Since, Until: opt.Until, Bad: []BadFile{}, Gaps: []verify.Gap{},
		RepeatedKeys: []FileRepeatedKeys{}}
	// The digests are verified while the log files are downloaded and
	// parsed: the queue hands out a file once a valid digest vouches for
	// it (or once verification is over, as not covered), and its records
	// are kept only if its bytes match that digest's hash. Only the
	// digests from the oldest new file on are read: those before it
	// vouch for nothing this pull loads, and a pull with nothing new
	// reads none.
	q := newQueue(!opt.NoVerify)
	var report *verify.Report
	var vouched []string // what valid digests list, in the order they vouched
	listed := newListedSet()
	var found []verify.ChainID
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		chains, todo, err := list(gctx, store, sink, opt, sum, listed)
		if err != nil {
			q.done()
			return err
		}
		found = chains
		q.list(todo)
		if start, ok := verifyFrom(todo, opt); ok {
			g.Go(func() error {
				defer q.done()
				rep, err := verify.Run(gctx, store, verify.Options{Bucket: opt.Bucket, Prefix: opt.Prefix, OrgID: opt.OrgID,
					Accounts: opt.Accounts, Regions: opt.Regions, Start: start, End: opt.Until, Now: opt.Now, Keys: opt.Keys, KeysFor: opt.KeysFor,
					Jobs: opt.Jobs, LogFiles: func(_ verify.Chain, lf digest.LogFile) {
						vouched = append(vouched, lf.S3Object)
						q.vouch(lf.S3Object, lf.HashValue)
					}})
				report = rep
				return err
			})
		} else {
			q.done()
		}
		return fetchAndLoad(gctx, store, sink, opt, tmp, len(todo), q, sum)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if report != nil {
		sum.evidence(report, vouched, listed, sum.uncovered, opt)
	}
	sum.uncovered = nil
	if sum.Listed == 0 {
		// Nothing in the window: say where the newest file is, so that the
		// window can be moved to it.
		var err error
		if sum.Newest, err = newest(ctx, store, found, opt); err != nil {
			return nil, fmt.Errorf("pull: find the newest log file: %w", err)
		}
	}
	// Workers finish in any order; the summary lists bad files by key.
	sort.SliceStable(sum.Bad, func(i, j int) bool { return sum.Bad[i].Key < sum.Bad[j].Key })
	sort.Slice(sum.RepeatedKeys, func(i, j int) bool { return sum.RepeatedKeys[i].Key < sum.RepeatedKeys[j].Key })
	sum.OK = sum.Listed > 0 && len(sum.Bad) == 0 && len(sum.Gaps) == 0
	sum.Elapsed = time.Since(began)
	return sum, nil
}
