// Package objstore is the object-store interface trailwarden reads log
// buckets through: S3 (and S3-compatible stores) or a local folder laid out
// like a bucket. Implementations live in the sub-packages s3 and folder.
package objstore

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (wrapped) by Get and Head for a missing key.
var ErrNotFound = errors.New("object not found")

// ErrStalled is returned (wrapped, as a *StallError) by any call, and by
// a body's Read, when the duckdb's endpoint stopped answering: no
// connection, or no progress for the duckdb's idle limit, after its
// retries. It says nothing about the object: callers stop rather than
// count the object as bad, and a later run can start again.
var ErrStalled = errors.New("stalled endpoint")

// StallError is a call that failed on a stalled endpoint. Msg names the
// call, the object and the endpoint; Err is the transport's error.
type StallError struct {
	Msg string
	Err error
}

func (e *StallError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrStalled) true, and keeps Err's chain.
func (e *StallError) Unwrap() []error { return []error{ErrStalled, e.Err} }

// Stalled returns the *StallError in err's chain, or nil: callers that
// stop on a stall report it as the store worded it, without the layers
// (a hash, a parser) it went through.
func Stalled(err error) *StallError {
	var se *StallError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// Object describes one stored object.
type Object struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// Metadata is S3 user metadata, keys lower-case without the x-amz-meta-
// prefix (e.g. "signature", "signature-algorithm"), as the AWS SDK returns it.
type Metadata map[string]string

// Store is a bucket, or a folder standing in for one. Keys use "/" as the
// separator. Implementations are safe for concurrent use.
type Store interface {
	// List calls fn for every object whose key starts with prefix and sorts
	// after startAfter ("" for all), in lexicographic key order, one page at
	// a time: it never holds the whole listing in memory. An error from fn
	// stops the listing and is returned.
	List(ctx context.Context, prefix, startAfter string, fn func(Object) error) error
	// ListDirs returns the names of the "folders" directly under prefix
	// (which ends in "/"): the distinct next path segments of keys below it,
	// sorted, as S3 returns common prefixes for the delimiter "/". It lets
	// callers discover accounts and regions without listing every object.
	ListDirs(ctx context.Context, prefix string) ([]string, error)
	// Get opens an object for streaming; the caller closes the body.
	Get(ctx context.Context, key string) (io.ReadCloser, Metadata, error)
	// Head returns an object's size and metadata without its body.
	Head(ctx context.Context, key string) (Object, Metadata, error)
	// Put stores an object atomically: readers never see half of it.
	Put(ctx context.Context, key string, body io.Reader, size int64, meta Metadata) error
	// Delete removes an object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages, e.g. s3://bucket/prefix or a path.
	String() string
}
