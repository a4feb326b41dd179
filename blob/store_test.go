package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"standing"
	"standing/blob"
	"standing/blob/blobtest"
)

func TestDiskContract(t *testing.T) {
	blobtest.TestStore(t, func(t *testing.T) blob.Store {
		s, err := blob.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestDiskContractFileURL(t *testing.T) {
	blobtest.TestStore(t, func(t *testing.T) blob.Store {
		s, err := blob.Open("file://"+t.TempDir()+"/evidence", nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestS3Contract runs the suite on a real S3 server (versitygw), path-style through an
// s3:// URL with a key prefix and a small page size, so List follows continuation tokens.
func TestS3Contract(t *testing.T) {
	srv := blobtest.StartS3Server(t)
	bucket := srv.NewBucket(t)
	var n atomic.Int64
	blobtest.TestStore(t, func(t *testing.T) blob.Store {
		s, err := blob.Open(srv.URL(bucket, fmt.Sprintf("evidence/t%d", n.Add(1)), "page_size=7"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestS3ContractVirtualHosted runs the suite with virtual-hosted addressing
// (<bucket>.s3.test), one fresh bucket per subtest and no key prefix.
func TestS3ContractVirtualHosted(t *testing.T) {
	srv := blobtest.StartS3Server(t)
	blobtest.TestStore(t, func(t *testing.T) blob.Store {
		s, err := blob.NewS3(blob.S3Config{
			Endpoint: srv.VirtualEndpoint(), Bucket: srv.NewBucket(t), PageSize: 5,
			Credentials: blob.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey},
			Client:      srv.Client(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Stores with different prefixes in one bucket do not see each other's objects.
func TestS3PrefixesAreSeparate(t *testing.T) {
	srv := blobtest.StartS3Server(t)
	bucket := srv.NewBucket(t)
	open := func(prefix string) blob.Store {
		s, err := blob.Open(srv.URL(bucket, prefix), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, root := open("tenant-a"), open("tenant-b"), open("")
	blobtest.MustPut(t, a, "k", []byte("a's"), "text/plain")
	blobtest.MustPut(t, b, "k", []byte("b's"), "text/plain")
	if got, _ := blobtest.MustGet(t, a, "k"); string(got) != "a's" {
		t.Errorf("a: %q", got)
	}
	if got, _ := blobtest.MustGet(t, b, "k"); string(got) != "b's" {
		t.Errorf("b: %q", got)
	}
	var keys []string
	if err := root.List(context.Background(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tenant-a/k", "tenant-b/k"}; !slices.Equal(keys, want) {
		t.Errorf("bucket holds %q, want %q", keys, want)
	}
	if err := a.Delete(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	if got, _ := blobtest.MustGet(t, b, "k"); string(got) != "b's" {
		t.Errorf("b after deleting a's: %q", got)
	}
}

// A wrong secret is an internal error that names the server's refusal, not "not found".
func TestS3WrongSecret(t *testing.T) {
	srv := blobtest.StartS3Server(t)
	bucket := srv.NewBucket(t)
	bad := *srv
	bad.SecretKey = "not-the-secret"
	s, err := blob.Open(bad.URL(bucket, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Stat(context.Background(), "k")
	if err == nil {
		t.Fatal("stat with a wrong secret succeeded")
	}
	_, _, err = s.Get(context.Background(), "k")
	if err == nil || !(strings.Contains(err.Error(), "SignatureDoesNotMatch") || strings.Contains(err.Error(), "AccessDenied") || strings.Contains(err.Error(), "InvalidAccessKeyId")) {
		t.Errorf("get with a wrong secret: %v, want the server's refusal", err)
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("error %q shows the secret", err)
	}
}

// A missing bucket is a configuration fault, not a missing object.
func TestS3MissingBucket(t *testing.T) {
	srv := blobtest.StartS3Server(t)
	s, err := blob.Open(srv.URL("no-such-bucket", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Get(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("get from a missing bucket: %v, want NoSuchBucket", err)
	}
	if err := s.List(context.Background(), "", func(blob.Info) error { return nil }); err == nil {
		t.Error("list of a missing bucket succeeded")
	}
}

// rewindBlocker is a seekable body that reads in full the first time and, once rewound,
// stops half-way until ctx is done: a client that goes away in the middle of an upload.
type rewindBlocker struct {
	ctx     context.Context
	data    []byte
	pos     int
	rewound bool
	half    chan struct{}
}

func (r *rewindBlocker) Read(p []byte) (int, error) {
	limit := len(r.data)
	if r.rewound {
		limit /= 2
		if r.pos >= limit {
			if r.half != nil {
				close(r.half)
				r.half = nil
			}
			<-r.ctx.Done()
			return 0, r.ctx.Err()
		}
	}
	if r.pos >= limit {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.pos:limit])
	r.pos += n
	return n, nil
}

func (r *rewindBlocker) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		r.pos = int(offset)
		r.rewound = true
	case io.SeekCurrent:
		r.pos += int(offset)
	default:
		return 0, errors.New("unsupported whence")
	}
	return int64(r.pos), nil
}

// An upload cut off half-way stores nothing: the server checks the signed SHA-256 of the
// body, and an existing object under the key stays as it was.
func TestS3UploadCutOffStoresNothing(t *testing.T) {
	srv := blobtest.StartS3Server(t)
	s, err := blob.Open(srv.URL(srv.NewBucket(t), ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	blobtest.MustPut(t, s, "kept", []byte("previous"), "text/plain")
	for _, key := range []string{"new", "kept"} {
		ctx, cancel := context.WithCancel(context.Background())
		half := make(chan struct{})
		r := &rewindBlocker{ctx: ctx, data: bytes.Repeat([]byte("0123456789abcdef"), 256<<10), half: half}
		done := make(chan error, 1)
		go func() { done <- s.Put(ctx, key, r, int64(len(r.data)), "video/mp4") }()
		<-half
		cancel()
		if err := <-done; err == nil {
			t.Fatalf("put %q cut off half-way succeeded", key)
		}
	}
	_, err = s.Stat(context.Background(), "new")
	if standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Errorf("stat of a new key after a cut-off upload: %v, want not found", err)
	}
	if got, info := blobtest.MustGet(t, s, "kept"); string(got) != "previous" || info.ContentType != "text/plain" {
		t.Errorf("kept = %q %q after a cut-off overwrite", got, info.ContentType)
	}
}
