// Package folder implements objstore.Store over a local directory laid out
// like a bucket: the object with key "a/b/c" is the file <dir>/a/b/c.
//
// # Listing order
//
// List returns keys in S3's order (byte-wise lexicographic on the key), not in
// file-system walk order. The two differ: in a walk, the directory "a" (keys
// "a/...") comes before the file "a-b", but in key order "a-b" < "a.b" < "a/b"
// because '-' (0x2D) and '.' (0x2E) sort before '/' (0x2F). List therefore
// sorts each directory's entries by the key prefix they stand for, a
// directory's name followed by "/", and walks one directory at a time, so it
// holds one directory's entries per level in memory, never the whole tree.
//
// # Metadata
//
// S3 user metadata has no place in a plain file, so it is kept beside the
// objects, as JSON, in
//
//	<dir>/.trailwarden/meta/<KEY>.json
//
// for example, for the key "AWSLogs/111122223333/CloudTrail/x.json.gz":
//
//	<dir>/.trailwarden/meta/AWSLogs/111122223333/CloudTrail/x.json.gz.json
//	{"signature": "...", "signature-algorithm": "SHA256withRSA"}
//
// Metadata keys are stored lower-case, as S3 returns them. An object without
// a metadata file has no metadata. `trailwarden demo` writes this layout and
// `trailwarden verify` reads it. The .trailwarden directory at the top of dir
// is never listed as objects.
//
// # Keys
//
// Keys are validated before they touch the file system: an empty key, an
// absolute key, an empty segment ("a//b", "a/"), a "." or ".." segment, a NUL
// byte, a backslash, invalid UTF-8, a key longer than 1024 bytes, or a
// segment starting with ".trailwarden" (reserved for metadata and temporary
// files) is rejected with an error wrapping ErrInvalidKey. All file access
// additionally goes through an os.Root, so not even a symbolic link inside
// dir can lead outside it.
//
// A file system cannot hold a file and a directory of the same name, so,
// unlike S3, a folder cannot hold both "a/b" and "a/b/c": the second Put fails
// with an error wrapping ErrKeyConflict and leaves the first object intact.
//
// # Writes
//
// Put writes the body to a temporary file in the target's directory, fsyncs
// it and renames it over the target, so a reader sees the old object or the
// new one, never a part. The metadata file is replaced the same way right
// after the object: the pair is not replaced as one, so a reader racing a
// Put can briefly see the new body with the old metadata. List ignores the
// temporary files and does not follow symbolic links.
package folder

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/internal/objstore"
)

// ErrInvalidKey is wrapped by the error for a key the folder cannot store
// safely (see the package documentation).
var ErrInvalidKey = errors.New("invalid object key")

// ErrKeyConflict is wrapped by the error for a Put whose key is the
// "directory" of another object ("a/b" when "a/b/c" exists) or lies below
// another object ("a/b/c" when "a/b" exists).
var ErrKeyConflict = errors.New("object key conflicts with an existing object")

// Reserved names inside dir.
const (
	reserved  = ".trailwarden"      // top-level directory, and prefix of every reserved name
	metaDir   = ".trailwarden/meta" // metadata files
	metaExt   = ".json"             // appended to the key for its metadata file
	tmpPrefix = ".trailwarden-tmp-" // temporary files during Put
	maxKeyLen = 1024                // S3's limit, in bytes
	dirPerm   = 0o750
	filePerm  = 0o644
)

// Store is a folder standing in for a bucket. It is safe for concurrent use.
type Store struct {
	dir    string
	root   *os.Root
	noSync bool
}

// WithoutSync makes Put skip fsync: writes stay atomic (a reader sees the
// old or the new object) but may be lost in a crash. For data that can be
// made again, such as a demo bucket, it saves most of the write time.
func (s *Store) WithoutSync() *Store {
	s.noSync = true
	return s
}

var _ objstore.Store = (*Store)(nil)

// New opens the existing directory dir as a store.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("folder: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("folder: %s is not a directory", abs)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	return &Store{dir: abs, root: root}, nil
}

// Create makes dir (and its parents) if it does not exist, then opens it as
// New does.
func Create(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("folder: empty directory name")
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	return New(dir)
}

// Dir returns the duckdb's directory as an absolute path.
func (s *Store) Dir() string { return s.dir }

// String returns the duckdb's directory.
func (s *Store) String() string { return s.dir }

// Close releases the directory handle. The store is unusable afterwards.
func (s *Store) Close() error { return s.root.Close() }

// ValidateKey reports, with an error wrapping ErrInvalidKey, why key cannot
// be stored in a folder; it returns nil for a valid key.
func ValidateKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why)
	}
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: key is %d bytes, longer than %d", ErrInvalidKey, len(key), maxKeyLen)
	case strings.IndexByte(key, 0) >= 0:
		return bad("contains a NUL byte")
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.IndexByte(key, '\\') >= 0:
		return bad(`contains a backslash`)
	case strings.HasPrefix(key, "/"):
		return bad("absolute key (starts with /)")
	case filepath.IsAbs(key) || filepath.VolumeName(key) != "":
		return bad("absolute path")
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return bad("empty path segment")
		case seg == "." || seg == "..":
			return bad(fmt.Sprintf("%q path segment", seg))
		case strings.HasPrefix(seg, reserved):
			return bad(fmt.Sprintf("segment %q starts with the reserved name %s", seg, reserved))
		}
	}
	return nil
}

// List implements objstore.Store.
func (s *Store) List(ctx context.Context, prefix, startAfter string, fn func(objstore.Object) error) error {
	return s.walk(ctx, "", prefix, startAfter, fn)
}

// ListDirs implements objstore.Store: the sub-directories of the folder
// that prefix names, sorted. A prefix that is not a directory has none.
func (s *Store) ListDirs(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(prefix, "/")
	if name == "" {
		name = "."
	} else if err := ValidateKey(name); err != nil {
		return nil, fmt.Errorf("folder: list %s: %w", prefix, err)
	}
	f, err := s.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, fmt.Errorf("folder: list %s: %w", prefix, err)
	}
	des, err := f.ReadDir(-1)
	_ = f.Close()
	if err != nil {
		return nil, nil //nolint:nilerr // a file, not a directory: it has no sub-folders
	}
	var out []string
	for _, de := range des {
		n := de.Name()
		if de.IsDir() && !strings.HasPrefix(n, reserved) && !strings.HasPrefix(n, tmpPrefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// entry is a directory entry with the key prefix it stands for: the key of a
// file, or a directory's key followed by "/".
type entry struct {
	key string
	dir bool
}

// walk lists the directory whose keys start with dirKey ("" for the top, else
// ending in "/").
func (s *Store) walk(ctx context.Context, dirKey, prefix, startAfter string, fn func(objstore.Object) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name := "."
	if dirKey != "" {
		name = strings.TrimSuffix(dirKey, "/")
	}
	f, err := s.root.Open(name)
	if err != nil {
		if dirKey != "" && errors.Is(err, fs.ErrNotExist) {
			return nil // removed while we walked: no objects there any more
		}
		return fmt.Errorf("folder: list %s: %w", s.dir, err)
	}
	des, err := f.ReadDir(-1)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("folder: list %s: %w", filepath.Join(s.dir, filepath.FromSlash(name)), err)
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		n := de.Name()
		if strings.HasPrefix(n, tmpPrefix) || (dirKey == "" && n == reserved) {
			continue
		}
		e := entry{key: dirKey + n}
		switch t := de.Type(); {
		case t.IsDir():
			e.key += "/"
			e.dir = true
		case t.IsRegular():
		default:
			continue // symbolic links, devices, sockets: not objects
		}
		if !relevant(e, prefix, startAfter) {
			continue
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range entries {
		if e.dir {
			if err := s.walk(ctx, e.key, prefix, startAfter, fn); err != nil {
				return err
			}
			continue
		}
		fi, err := s.root.Lstat(e.key)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted while we walked
			}
			return fmt.Errorf("folder: list %s: %w", s.dir, err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(objstore.Object{Key: e.key, Size: fi.Size(), LastModified: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// relevant reports whether e can hold keys that start with prefix and sort
// after startAfter.
func relevant(e entry, prefix, startAfter string) bool {
	if !e.dir {
		return strings.HasPrefix(e.key, prefix) && e.key > startAfter
	}
	// Keys below a directory all start with e.key.
	if !strings.HasPrefix(e.key, prefix) && !strings.HasPrefix(prefix, e.key) {
		return false
	}
	// Every key starting with e.key is <= startAfter when startAfter is
	// beyond e.key without starting with it.
	return startAfter <= e.key || strings.HasPrefix(startAfter, e.key)
}

// Get implements objstore.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Metadata, error) {
	if err := ValidateKey(key); err != nil {
		return nil, nil, fmt.Errorf("folder: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("folder: get %s: %w", key, err)
	}
	f, err := s.root.Open(key)
	if err != nil {
		return nil, nil, s.notFound("get", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("folder: get %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, nil, fmt.Errorf("folder: get %s: %w", key, objstore.ErrNotFound)
	}
	meta, err := s.readMeta(key)
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("folder: get %s: %w", key, err)
	}
	return f, meta, nil
}

// Head implements objstore.Store.
func (s *Store) Head(ctx context.Context, key string) (objstore.Object, objstore.Metadata, error) {
	if err := ValidateKey(key); err != nil {
		return objstore.Object{}, nil, fmt.Errorf("folder: head: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return objstore.Object{}, nil, fmt.Errorf("folder: head %s: %w", key, err)
	}
	fi, err := s.root.Stat(key)
	if err != nil {
		return objstore.Object{}, nil, s.notFound("head", key, err)
	}
	if !fi.Mode().IsRegular() {
		return objstore.Object{}, nil, fmt.Errorf("folder: head %s: %w", key, objstore.ErrNotFound)
	}
	meta, err := s.readMeta(key)
	if err != nil {
		return objstore.Object{}, nil, fmt.Errorf("folder: head %s: %w", key, err)
	}
	return objstore.Object{Key: key, Size: fi.Size(), LastModified: fi.ModTime()}, meta, nil
}

// notFound maps a failed open or stat of key to an error wrapping
// objstore.ErrNotFound where the object does not exist.
func (s *Store) notFound(op, key string, err error) error {
	// ENOTDIR: an ancestor of the key is a file, so the key does not exist.
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("folder: %s %s: %w", op, key, objstore.ErrNotFound)
	}
	return fmt.Errorf("folder: %s %s: %w", op, key, err)
}

func metaName(key string) string { return metaDir + "/" + key + metaExt }

// readMeta returns the metadata of key: empty when it has no metadata file.
func (s *Store) readMeta(key string) (objstore.Metadata, error) {
	data, err := s.root.ReadFile(metaName(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return objstore.Metadata{}, nil
		}
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	meta := objstore.Metadata{}
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("metadata file %s: %w", filepath.Join(s.dir, filepath.FromSlash(metaName(key))), err)
	}
	return meta, nil
}

// Put implements objstore.Store. size must be the exact length of body.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64, meta objstore.Metadata) (err error) {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("folder: put: %w", err)
	}
	if size < 0 {
		return fmt.Errorf("folder: put %s: negative size %d", key, size)
	}
	var metaJSON []byte
	if len(meta) > 0 {
		lower := make(map[string]string, len(meta))
		for k, v := range meta {
			if k == "" {
				return fmt.Errorf("folder: put %s: empty metadata key", key)
			}
			lower[strings.ToLower(k)] = v
		}
		if metaJSON, err = json.MarshalIndent(lower, "", "  "); err != nil {
			return fmt.Errorf("folder: put %s: %w", key, err)
		}
		metaJSON = append(metaJSON, '\n')
	}

	objTmp, err := s.writeTemp(ctx, key, io.LimitReader(body, size+1), size)
	if err != nil {
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	defer func() {
		if objTmp != "" {
			_ = s.root.Remove(objTmp)
		}
	}()
	var metaTmp string
	if metaJSON != nil {
		if metaTmp, err = s.writeTemp(ctx, metaName(key), strings.NewReader(string(metaJSON)), int64(len(metaJSON))); err != nil {
			return fmt.Errorf("folder: put %s: metadata: %w", key, err)
		}
		defer func() {
			if metaTmp != "" {
				_ = s.root.Remove(metaTmp)
			}
		}()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	if err := s.root.Rename(objTmp, key); err != nil {
		if fi, serr := s.root.Lstat(key); serr == nil && fi.IsDir() {
			return fmt.Errorf("folder: put %s: %w: it is the directory of other objects", key, ErrKeyConflict)
		}
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	objTmp = ""
	if metaTmp != "" {
		if err := s.root.Rename(metaTmp, metaName(key)); err != nil {
			return fmt.Errorf("folder: put %s: metadata: %w", key, err)
		}
		metaTmp = ""
	} else if err := s.root.Remove(metaName(key)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("folder: put %s: remove old metadata: %w", key, err)
	}
	if err := s.syncDir(path.Dir(key)); err != nil {
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	if metaJSON != nil {
		if err := s.syncDir(path.Dir(metaName(key))); err != nil {
			return fmt.Errorf("folder: put %s: metadata: %w", key, err)
		}
	}
	return nil
}

// writeTemp writes exactly size bytes from r to a new temporary file in the
// directory of name (created if need be) and fsyncs it, returning the
// temporary file's name.
func (s *Store) writeTemp(ctx context.Context, name string, r io.Reader, size int64) (tmp string, err error) {
	dir := path.Dir(name)
	var f *os.File
	// A concurrent Delete may remove the (empty) directory between MkdirAll
	// and the create; try again a few times.
	for attempt := 0; ; attempt++ {
		if dir != "." {
			if err := s.root.MkdirAll(dir, dirPerm); err != nil {
				if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
					return "", fmt.Errorf("%w: a parent of %s is an object", ErrKeyConflict, name)
				}
				return "", err
			}
		}
		tmp = path.Join(dir, tmpPrefix+randomSuffix())
		f, err = s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt >= 5 {
			return "", err
		}
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = s.root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return "", err
	}
	if n != size {
		if n > size {
			return "", fmt.Errorf("body is longer than the given size %d", size)
		}
		return "", fmt.Errorf("body has %d bytes, size says %d", n, size)
	}
	if !s.noSync {
		if err = f.Sync(); err != nil {
			return "", err
		}
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return tmp, nil
}

// syncDir fsyncs a directory so a rename in it survives a crash.
func (s *Store) syncDir(dir string) error {
	if s.noSync {
		return nil
	}
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil // file systems that cannot fsync a directory
	}
	return err
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// ctxReader stops a copy when its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Delete implements objstore.Store. It also removes the object's metadata and
// any directories the removal left empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("folder: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("folder: delete %s: %w", key, err)
	}
	fi, err := s.root.Lstat(key)
	switch {
	case err == nil && fi.IsDir():
		// A "directory" of other objects is not an object: nothing to delete.
	case err == nil:
		if err := s.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("folder: delete %s: %w", key, err)
		}
		s.pruneEmpty(path.Dir(key), "")
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
	default:
		return fmt.Errorf("folder: delete %s: %w", key, err)
	}
	if err := s.root.Remove(metaName(key)); err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("folder: delete %s: metadata: %w", key, err)
		}
	} else {
		s.pruneEmpty(path.Dir(metaName(key)), metaDir)
	}
	return nil
}

// pruneEmpty removes dir and its ancestors, up to but excluding stop (""
// for the top), while they are empty, as S3 has no empty "directories".
func (s *Store) pruneEmpty(dir, stop string) {
	for dir != "." && dir != stop {
		if err := s.root.Remove(dir); err != nil {
			return // not empty, or gone already
		}
		dir = path.Dir(dir)
	}
}
