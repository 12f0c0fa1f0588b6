// Package miniotest starts a real MinIO server, on loopback only, for
// integration tests of the S3 code.
//
// The minio binary is found through, in order: the TRAILWARDEN_MINIO
// environment variable, $(go env GOPATH)/bin/minio (where `make setup`
// installs it), and PATH. A missing binary fails the test: it never skips, so
// an S3 test cannot pass by not running.
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Region is the region the server's clients should use.
const Region = "us-east-1"

// StartTimeout bounds the wait for the server to become live.
const StartTimeout = 30 * time.Second

// Server is a running MinIO server, stopped when the test that started it
// ends.
type Server struct {
	Endpoint  string // http://127.0.0.1:<port>
	AccessKey string
	SecretKey string
	DataDir   string

	client *s3.Client
	bin    string
	cmd    *exec.Cmd     // the running server process
	exited chan struct{} // closed when cmd has exited
}

// Binary returns the path of the minio binary Start would run, or an error
// that says how to install it.
func Binary() (string, error) {
	if p := os.Getenv("TRAILWARDEN_MINIO"); p != "" {
		if _, err := os.Stat(p); err != nil { // #nosec G703 -- the test's own setting
			return "", fmt.Errorf("TRAILWARDEN_MINIO=%s: %w", p, err)
		}
		return p, nil
	}
	var tried []string
	if gopath := goPath(); gopath != "" {
		p := filepath.Join(gopath, "bin", "minio")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	tried = append(tried, "minio on PATH")
	return "", fmt.Errorf("minio binary not found (tried TRAILWARDEN_MINIO, %s): run `make setup` to install it", strings.Join(tried, ", "))
}

// goPath is the first entry of $(go env GOPATH).
func goPath() string {
	gp := os.Getenv("GOPATH")
	if gp == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gp = strings.TrimSpace(string(out))
		}
	}
	if gp == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gp = filepath.Join(home, "go")
		}
	}
	if i := strings.IndexRune(gp, os.PathListSeparator); i >= 0 {
		gp = gp[:i]
	}
	return gp
}

// Start starts a MinIO server with a fresh data directory and random
// credentials, listening on 127.0.0.1 only, and waits until it is live. The
// server is stopped in t.Cleanup. Start fails the test if minio is not
// installed or does not come up within StartTimeout.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	s := &Server{
		AccessKey: "tw" + randomHex(9),
		SecretKey: randomHex(20),
		DataDir:   t.TempDir(),
		bin:       bin,
	}
	s.launch(t)
	return s
}

// launch starts the server process on s.DataDir and fresh ports, retrying
// with other ports if they were taken, and points the client at it.
func (s *Server) launch(t testing.TB) {
	t.Helper()
	// A free port may be taken between our probe and minio's bind; try again
	// with fresh ports if the server exits early.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = s.start(t, s.bin); lastErr == nil {
			break
		}
		t.Logf("miniotest: attempt %d: %v", attempt+1, lastErr)
	}
	if lastErr != nil {
		t.Fatalf("miniotest: %v", lastErr)
	}
	s.client = s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}},
	})
	if err := s.waitInitialized(); err != nil {
		t.Fatalf("miniotest: %v", err)
	}
}

// Signal sends sig to the server process: SIGSTOP stalls it (connections
// stay open, nothing answers), SIGCONT resumes it.
func (s *Server) Signal(sig os.Signal) error {
	return s.cmd.Process.Signal(sig)
}

// Kill kills the server as a crash would (SIGKILL: no shutdown, open
// connections reset) and waits for it to be gone. Restart brings it back
// on the same data.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Restart starts a killed server again on the same data directory and
// credentials, on fresh ports: Endpoint changes.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	select {
	case <-s.exited:
	default:
		t.Fatalf("miniotest: Restart of a server that is still running")
	}
	s.launch(t)
}

// waitInitialized waits until the server answers S3 requests: live and
// even ready, MinIO may still refuse them for a moment with
// XMinioServerNotInitialized (503).
func (s *Server) waitInitialized() error {
	deadline := time.Now().Add(StartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.client.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minio at %s not answering S3 requests after %v: %w", s.Endpoint, StartTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// start runs one attempt: a process on two fresh ports, until live.
func (s *Server) start(t testing.TB, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	consolePort, err := freePort()
	if err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	consoleAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(consolePort))
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr, "--console-address", consoleAddr, s.DataDir) // #nosec G204 -- the binary is the test's own minio
	cmd.Env = append(withoutMinioEnv(os.Environ()),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	)
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		resume(cmd.Process) // a stalled server cannot take SIGTERM
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	s.Endpoint = "http://" + addr
	health := s.Endpoint + "/minio/health/ready"
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(StartTimeout)
	started := time.Now()
	for {
		select {
		case <-exited:
			return fmt.Errorf("minio exited before it was live (%w):\n%s", waitErr, tail(out.String()))
		default:
		}
		if live(client, health) {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("minio not live at %s after %v:\n%s", health, StartTimeout, tail(out.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.cmd, s.exited = cmd, exited
	t.Logf("miniotest: minio live at %s after %v", s.Endpoint, time.Since(started).Round(time.Millisecond))
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("miniotest: minio output:\n%s", tail(out.String()))
		}
	})
	return nil
}

func live(c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// CreateBucket creates a bucket on the server, failing the test on error.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("miniotest: create bucket %s: %v", name, err)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("find a free port: not a TCP address")
	}
	return addr.Port, nil
}

// withoutMinioEnv drops MINIO_* settings of the environment so that only
// ours apply.
func withoutMinioEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MINIO_") {
			out = append(out, kv)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// syncBuffer collects the server's output from its copying goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// SetEnv points the AWS SDK's credential chain at this server's keys only:
// no shared config of the machine, no instance metadata, no endpoint
// overrides. Tests that build S3 clients through the normal chain use it.
func (s *Server) SetEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
	} {
		t.Setenv(k, v)
	}
}
