package storetest

import (
	"context"
	"errors"
	"io"

	"github.com/trailwarden/trailwarden/internal/objstore"
)

// Stall ops: where a Stalling store stalls.
const (
	StallGet  = "get"  // Get fails
	StallBody = "body" // Get answers, and the body stalls halfway
	StallHead = "head" // Head fails
	StallList = "list" // List and ListDirs fail
)

// Stalling is a store whose endpoint stalls for the calls Match picks,
// with the errors a real store returns once its retries are spent
// (*objstore.StallError), so callers' handling of a stalled endpoint can
// be tested without a network.
type Stalling struct {
	objstore.Store
	// Match says whether op (a Stall* constant) on key (a prefix for
	// StallList) stalls.
	Match func(op, key string) bool
}

func (s *Stalling) stall(op, key string) error {
	return &objstore.StallError{Msg: "stalltest: " + op + " " + key + ": no data for 1s (stalled endpoint)", Err: errors.New("no data for 1s")}
}

// Get implements objstore.Store.
func (s *Stalling) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Metadata, error) {
	if s.Match(StallGet, key) {
		return nil, nil, s.stall(StallGet, key)
	}
	body, meta, err := s.Store.Get(ctx, key)
	if err != nil || !s.Match(StallBody, key) {
		return body, meta, err
	}
	data, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil {
		return nil, nil, err
	}
	return &stalledBody{data: data[:len(data)/2], err: s.stall(StallBody, key)}, meta, nil
}

// Head implements objstore.Store.
func (s *Stalling) Head(ctx context.Context, key string) (objstore.Object, objstore.Metadata, error) {
	if s.Match(StallHead, key) {
		return objstore.Object{}, nil, s.stall(StallHead, key)
	}
	return s.Store.Head(ctx, key)
}

// List implements objstore.Store.
func (s *Stalling) List(ctx context.Context, prefix, startAfter string, fn func(objstore.Object) error) error {
	if s.Match(StallList, prefix) {
		return s.stall(StallList, prefix)
	}
	return s.Store.List(ctx, prefix, startAfter, fn)
}

// ListDirs implements objstore.Store.
func (s *Stalling) ListDirs(ctx context.Context, prefix string) ([]string, error) {
	if s.Match(StallList, prefix) {
		return nil, s.stall(StallList, prefix)
	}
	return s.Store.ListDirs(ctx, prefix)
}

// stalledBody serves data, then fails with err.
type stalledBody struct {
	data []byte
	err  error
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, b.err
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *stalledBody) Close() error { return nil }
