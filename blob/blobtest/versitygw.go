package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"go/build"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"standing/blob"
)

// VersityGWInstall is the command that installs the versitygw binary the S3 tests run.
// It runs outside the module, so it does not touch go.mod.
const VersityGWInstall = "cd /tmp && GOFLAGS=-mod=mod go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// VirtualDomain is the base domain StartS3Server's gateway serves virtual-hosted buckets
// under: <bucket>.s3.test. The name does not resolve; dial the gateway's Addr instead (see
// S3Server.Client).
const VirtualDomain = "s3.test"

// S3Server is a versitygw gateway serving a temporary directory, started for one test.
type S3Server struct {
	// Addr is the host:port the gateway listens on, on the loopback interface.
	Addr string
	// Endpoint is http://Addr, the endpoint for path-style addressing.
	Endpoint string
	// AccessKey and SecretKey are the gateway's root credentials.
	AccessKey, SecretKey string
}

// findVersityGW looks for the binary on PATH, then in GOBIN and GOPATH/bin, where go
// install puts it.
func findVersityGW() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, p := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// StartS3Server starts versitygw with its posix backend on a temporary directory,
// listening on a free loopback port with virtual-hosted buckets under VirtualDomain as
// well as path-style ones, and stops it when the test ends. Without the binary it skips
// the test, saying how to install it — or fails it when STANDING_REQUIRE_S3=1 (CI).
func StartS3Server(t testing.TB) *S3Server {
	t.Helper()
	bin := findVersityGW()
	if bin == "" {
		msg := "versitygw is not installed (not on PATH nor in GOPATH/bin); install it with: " + VersityGWInstall
		if os.Getenv("STANDING_REQUIRE_S3") == "1" {
			t.Fatal(msg + " (STANDING_REQUIRE_S3=1 forbids skipping)")
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := &S3Server{Addr: addr, Endpoint: "http://" + addr, AccessKey: "blobtest", SecretKey: randomHex(t, 20)}

	var out syncBuffer
	cmd := exec.Command(bin,
		"--access", srv.AccessKey, "--secret", srv.SecretKey,
		"--port", addr, "--virtual-domain", VirtualDomain, "--quiet",
		"posix", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	// versitygw says nothing when its socket is bound (its banner comes before), so wait
	// for a connection to succeed, bounded, and give up at once if it exits.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s within 30 s: %v\n%s", addr, err, out.String())
		}
		select {
		case <-exited:
			t.Fatalf("versitygw exited: %s\n%s", cmd.ProcessState, out.String())
		case <-tick.C:
		}
	}
}

var bucketSeq atomic.Int64

// NewBucket creates a bucket with a fresh name on the server and returns the name.
func (srv *S3Server) NewBucket(t testing.TB) string {
	t.Helper()
	bucket := "blobtest-" + randomHex(t, 4) + "-" + strconv.FormatInt(bucketSeq.Add(1), 10)
	s, err := blob.NewS3(blob.S3Config{
		Endpoint: srv.Endpoint, Bucket: bucket, PathStyle: true,
		Credentials: blob.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(context.Background()); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	return bucket
}

// URL returns the s3:// URL of a store in bucket under prefix (which may be empty), with
// the credentials in it and path-style addressing. extra parameters ("page_size=3") are
// appended.
func (srv *S3Server) URL(bucket, prefix string, extra ...string) string {
	u := url.URL{
		Scheme: "s3", Host: bucket, Path: "/" + prefix,
		User:     url.UserPassword(srv.AccessKey, srv.SecretKey),
		RawQuery: "endpoint=" + url.QueryEscape(srv.Endpoint) + "&path_style=true",
	}
	for _, e := range extra {
		u.RawQuery += "&" + e
	}
	return u.String()
}

// Client returns an HTTP client that sends every connection to the gateway, whatever the
// host name: with it an endpoint of http://s3.test:<port> reaches the gateway with
// virtual-hosted addressing.
func (srv *S3Server) Client() *http.Client {
	var d net.Dialer
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, srv.Addr)
	}
	return &http.Client{Transport: tr}
}

// VirtualEndpoint is the endpoint to use with Client for virtual-hosted addressing.
func (srv *S3Server) VirtualEndpoint() string {
	_, port, _ := net.SplitHostPort(srv.Addr)
	return "http://" + VirtualDomain + ":" + port
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer collects a child process's output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
