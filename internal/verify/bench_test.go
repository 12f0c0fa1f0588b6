package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	s3store "github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/objstore/storetest"
	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// BenchmarkVerifyOrganization verifies one demo organization served by a
// real MinIO, several ways, on the same bytes, in one run:
//
//   - parallel: trailwarden verify --jobs 16;
//   - sequential: one request at a time, the way validate-logs works;
//   - local limit: reading and hashing the same log files from disk, on
//     every core (gunzip + SHA-256, as verification must);
//
// each straight to MinIO on loopback (where the 2-core machine, shared with
// MinIO, is the limit) and through a loopback proxy that adds a fixed
// round-trip time per request, as a real S3 endpoint has (where the
// round trips are the limit, which is what makes validate-logs slow).
//
// TRAILWARDEN_BENCH_MB sets the compressed size of the log files (default
// 1024); TRAILWARDEN_BENCH_RTT the added round trip (default 20ms).
func BenchmarkVerifyOrganization(b *testing.B) {
	targetMB := envInt("TRAILWARDEN_BENCH_MB", 1024)
	rtt := time.Duration(envInt("TRAILWARDEN_BENCH_RTT_MS", 20)) * time.Millisecond
	ctx := context.Background()
	// 20 accounts x 3 regions x 3 days = 4,320 chain-hours, at about 150
	// compressed bytes per event (measured: about 185; the margin keeps the
	// size at or above the target).
	opt := demo.Options{Accounts: 20, Regions: []string{"us-east-1", "eu-west-1", "ap-southeast-2"}, Days: 3, Seed: 5,
		Bucket: "bench-bucket", Trail: "org-trail", Jobs: runtime.GOMAXPROCS(0)}
	opt.EventsPerHour = max(24, targetMB*1_000_000/150/4320)

	local, err := folder.Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	local.WithoutSync()
	began := time.Now()
	res, err := demo.Generate(ctx, local, opt)
	if err != nil {
		b.Fatal(err)
	}
	m := res.Manifest
	b.Logf("demo: %d log files, %.0f MB compressed, %d events, %d digests, generated in %s",
		m.LogFiles, float64(m.LogBytes)/1e6, m.Events, m.DigestFiles, time.Since(began).Round(time.Second))

	srv := miniotest.Start(b)
	setEnv(b, srv)
	srv.CreateBucket(b, "bench-bucket")
	direct := newS3(b, srv.Endpoint)
	began = time.Now()
	if err := storetest.Copy(ctx, local, direct, 16); err != nil {
		b.Fatal(err)
	}
	b.Logf("copied to MinIO in %s", time.Since(began).Round(time.Second))
	slow := newS3(b, latencyProxy(b, srv.Endpoint, rtt))

	keys, err := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if err != nil {
		b.Fatal(err)
	}
	// Sequential runs through the proxy verify a few accounts only: the
	// rates, not the totals, are compared.
	few := m.Org.Accounts[:3]
	measure := func(name string, st objstore.Store, jobs int, accounts []string) float64 {
		rep, err := verify.Run(ctx, st, verify.Options{Bucket: "bench-bucket", Start: m.Start, End: m.End, Keys: keys, Jobs: jobs, Accounts: accounts})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() || rep.LogFilesValid != rep.LogFiles {
			b.Fatalf("%s: not all valid", name)
		}
		secs := rep.Elapsed.Seconds()
		mbps := float64(rep.Bytes) / 1e6 / secs
		b.Logf("%-28s %7.1f MB/s %7.0f files/s  %5d files  %s", name, mbps, float64(rep.LogFiles+rep.Digests)/secs,
			rep.LogFiles+rep.Digests, rep.Elapsed.Round(time.Millisecond))
		return mbps
	}
	for b.Loop() {
		par := measure("parallel, loopback", direct, 16, nil)
		seq := measure("sequential, loopback", direct, 1, nil)
		parRTT := measure(fmt.Sprintf("parallel, +%s RTT", rtt), slow, 16, nil)
		seqRTT := measure(fmt.Sprintf("sequential, +%s RTT", rtt), slow, 1, few)
		lim := localLimit(b, local)
		b.ReportMetric(par, "MB/s")
		b.ReportMetric(par/seq, "x-seq-loopback")
		b.ReportMetric(parRTT/seqRTT, "x-seq-rtt")
		b.ReportMetric(lim/par, "local-limit/parallel")
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func newS3(b *testing.B, endpoint string) objstore.Store {
	st, err := s3store.New(context.Background(), s3store.Options{Bucket: "bench-bucket", Region: miniotest.Region, Endpoint: endpoint})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// latencyProxy forwards to target on loopback after waiting rtt.
func latencyProxy(b *testing.B, target string, rtt time.Duration) string {
	u, err := url.Parse(target)
	if err != nil {
		b.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(rtt)
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// localLimit reads and hashes every log file of the folder on all cores.
func localLimit(b *testing.B, st *folder.Store) float64 {
	ctx := context.Background()
	var keys []string
	_ = st.List(ctx, "", "", func(o objstore.Object) error {
		if k, err := layout.Parse(o.Key); err == nil && k.Kind == layout.LogFile {
			keys = append(keys, o.Key)
		}
		return nil
	})
	began := time.Now()
	var total, next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(keys)); i = next.Add(1) - 1 {
				f, err := os.Open(st.Dir() + "/" + keys[i])
				if err != nil {
					b.Error(err)
					return
				}
				cr := &counter{r: f}
				if _, _, err := digest.HashGzip(cr); err != nil {
					b.Error(err)
				}
				_ = f.Close()
				total.Add(cr.n)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(began).Seconds()
	mbps := float64(total.Load()) / 1e6 / secs
	b.Logf("%-28s %7.1f MB/s %7.0f files/s  %5d files  %s", "local limit (disk)", mbps, float64(len(keys))/secs, len(keys),
		time.Since(began).Round(time.Millisecond))
	return mbps
}

type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func setEnv(b *testing.B, srv *miniotest.Server) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
		"AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		b.Setenv(k, v)
	}
}
