package storetest

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/objstore"
)

// Copy uploads every object of from, with its metadata, to to, jobs at a
// time; benchmarks use it to serve a demo folder from a real S3 server.
func Copy(ctx context.Context, from, to objstore.Store, jobs int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	err := from.List(ctx, "", "", func(o objstore.Object) error {
		g.Go(func() error {
			body, meta, err := from.Get(gctx, o.Key)
			if err != nil {
				return err
			}
			defer func() { _ = body.Close() }()
			return to.Put(gctx, o.Key, body, o.Size, meta)
		})
		return nil
	})
	if err := errors.Join(err, g.Wait()); err != nil {
		return fmt.Errorf("copy objects: %w", err)
	}
	return nil
}
