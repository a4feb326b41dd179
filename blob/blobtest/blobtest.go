// Package blobtest holds the contract suite every blob.Store must pass (the same tests on
// the local disk store and on a real S3 server) and a helper that starts versitygw, a
// real S3 gateway over a temporary directory, for tests that need S3.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"standing"
	"standing/blob"
)

// Opener returns a fresh, empty store for one test; it registers any cleanup with t.
type Opener func(t *testing.T) blob.Store

// TestStore runs the contract suite against the stores open returns. Each subtest gets
// its own store.
func TestStore(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGet", testPutGet},
		{"EmptyObject", testEmptyObject},
		{"GetRange", testGetRange},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"DeleteIsIdempotent", testDelete},
		{"InvalidKeys", testInvalidKeys},
		{"ValidKeys", testValidKeys},
		{"InvalidPut", testInvalidPut},
		{"WrongLength", testWrongLength},
		{"Large", testLarge},
		{"ConcurrentPuts", testConcurrentPuts},
		{"List", testList},
		{"ListManyPages", testListMany},
		{"ListStops", testListStops},
		{"CanceledPut", testCanceledPut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// onlyReader hides every method but Read, so a store cannot seek or stat its source.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// readers returns the two kinds of body a store must take: one it can seek and one it
// cannot.
func readers(b []byte) map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"seekable": func() io.Reader { return bytes.NewReader(b) },
		"stream":   func() io.Reader { return onlyReader{bytes.NewReader(b)} },
	}
}

// MustPut stores b under key, or fails the test.
func MustPut(t testing.TB, s blob.Store, key string, b []byte, contentType string) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)), contentType); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

// MustGet returns the object under key, or fails the test.
func MustGet(t testing.TB, s blob.Store, key string) ([]byte, blob.Info) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b, info
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := standing.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkInfo compares the parts of an Info that every store fills the same way.
func checkInfo(t testing.TB, what string, got blob.Info, key string, size int64, contentType string) {
	t.Helper()
	if got.Key != key || got.Size != size || got.ContentType != contentType {
		t.Errorf("%s: info = {Key: %q, Size: %d, ContentType: %q}, want {%q, %d, %q}",
			what, got.Key, got.Size, got.ContentType, key, size, contentType)
	}
	if d := time.Since(got.ModTime); got.ModTime.IsZero() || d < -time.Hour || d > time.Hour {
		t.Errorf("%s: ModTime = %v, want about now", what, got.ModTime)
	}
}

func testPutGet(t *testing.T, s blob.Store) {
	for name, reader := range readers([]byte("a scanned card photo")) {
		key := "evidence/apl_1/" + name + ".jpg"
		if err := s.Put(context.Background(), key, reader(), 20, "image/jpeg"); err != nil {
			t.Fatalf("put %s: %v", name, err)
		}
		b, info := MustGet(t, s, key)
		if string(b) != "a scanned card photo" {
			t.Errorf("get %s = %q", name, b)
		}
		checkInfo(t, "get "+name, info, key, 20, "image/jpeg")
		st, err := s.Stat(context.Background(), key)
		if err != nil {
			t.Fatalf("stat %s: %v", name, err)
		}
		checkInfo(t, "stat "+name, st, key, 20, "image/jpeg")
	}
	// A content type with parameters is kept as given.
	MustPut(t, s, "statement.txt", []byte("hello"), "text/plain; charset=utf-8")
	if _, info := MustGet(t, s, "statement.txt"); info.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("content type = %q", info.ContentType)
	}
	// No content type stores the default.
	MustPut(t, s, "untyped", []byte("x"), "")
	if _, info := MustGet(t, s, "untyped"); info.ContentType != blob.DefaultContentType {
		t.Errorf("default content type = %q, want %q", info.ContentType, blob.DefaultContentType)
	}
}

func testEmptyObject(t *testing.T, s blob.Store) {
	for name, reader := range readers(nil) {
		key := "empty-" + name
		if err := s.Put(context.Background(), key, reader(), 0, "application/pdf"); err != nil {
			t.Fatalf("put %s: %v", name, err)
		}
		b, info := MustGet(t, s, key)
		if len(b) != 0 {
			t.Errorf("get %s = %d bytes", name, len(b))
		}
		checkInfo(t, "get "+name, info, key, 0, "application/pdf")
	}
}

func testGetRange(t *testing.T, s blob.Store) {
	ctx := context.Background()
	MustPut(t, s, "video.mp4", []byte("0123456789"), "video/mp4")
	tests := []struct {
		offset, length int64
		want           string
	}{
		{0, -1, "0123456789"},
		{0, 3, "012"},
		{4, 2, "45"},
		{7, -1, "789"},
		{7, 100, "789"},
		{9, 1, "9"},
		{3, 0, ""},
		{10, -1, ""},
		{10, 5, ""},
		{20, 5, ""},
		{1 << 62, 1 << 62, ""},
	}
	for _, tt := range tests {
		rc, info, err := s.GetRange(ctx, "video.mp4", tt.offset, tt.length)
		if err != nil {
			t.Errorf("GetRange(%d, %d): %v", tt.offset, tt.length, err)
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != tt.want {
			t.Errorf("GetRange(%d, %d) = %q, %v; want %q", tt.offset, tt.length, b, err, tt.want)
		}
		checkInfo(t, fmt.Sprintf("GetRange(%d, %d)", tt.offset, tt.length), info, "video.mp4", 10, "video/mp4")
	}
	_, _, err := s.GetRange(ctx, "video.mp4", -1, 2)
	wantCode(t, "negative offset", err, standing.EINVALID)
	_, _, err = s.GetRange(ctx, "missing.mp4", 0, 2)
	wantCode(t, "range of a missing key", err, standing.ENOTFOUND)
	_, _, err = s.GetRange(ctx, "missing.mp4", 5, 0)
	wantCode(t, "empty range of a missing key", err, standing.ENOTFOUND)
	_, _, err = s.GetRange(ctx, "../x", 0, 2)
	wantCode(t, "range of a bad key", err, standing.EINVALID)

	// An empty object: every range is empty.
	MustPut(t, s, "empty", nil, "")
	rc, info, err := s.GetRange(ctx, "empty", 0, 10)
	if err != nil {
		t.Fatalf("GetRange of an empty object: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if len(b) != 0 || info.Size != 0 {
		t.Errorf("GetRange of an empty object = %q, size %d", b, info.Size)
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	MustPut(t, s, "k", []byte("first version, long"), "image/png")
	MustPut(t, s, "k", []byte("second"), "application/pdf")
	b, info := MustGet(t, s, "k")
	if string(b) != "second" {
		t.Errorf("get = %q, want the second version", b)
	}
	checkInfo(t, "get", info, "k", 6, "application/pdf")
	var keys []string
	if err := s.List(context.Background(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"k"}) {
		t.Errorf("list after overwrite = %q", keys)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	ctx := context.Background()
	_, _, err := s.Get(ctx, "no/such/key")
	wantCode(t, "get missing", err, standing.ENOTFOUND)
	_, err = s.Stat(ctx, "no/such/key")
	wantCode(t, "stat missing", err, standing.ENOTFOUND)
	// A key that is only a prefix of stored keys is not an object.
	MustPut(t, s, "dir/file", []byte("x"), "")
	_, _, err = s.Get(ctx, "dir")
	wantCode(t, "get of a prefix", err, standing.ENOTFOUND)
	_, err = s.Stat(ctx, "dir")
	wantCode(t, "stat of a prefix", err, standing.ENOTFOUND)
	_, err = s.Stat(ctx, "dir/fil")
	wantCode(t, "stat of a partial name", err, standing.ENOTFOUND)
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	MustPut(t, s, "a/b/c", []byte("x"), "")
	MustPut(t, s, "a/b/d", []byte("y"), "")
	if err := s.Delete(ctx, "a/b/c"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, _, err := s.Get(ctx, "a/b/c")
	wantCode(t, "get deleted", err, standing.ENOTFOUND)
	if err := s.Delete(ctx, "a/b/c"); err != nil {
		t.Errorf("delete again: %v, want nil (idempotent)", err)
	}
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Errorf("delete missing: %v, want nil", err)
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Errorf("delete of a prefix: %v, want nil", err)
	}
	if b, _ := MustGet(t, s, "a/b/d"); string(b) != "y" {
		t.Errorf("sibling = %q after deletes", b)
	}
	if err := s.Delete(ctx, "a/b/d"); err != nil {
		t.Fatal(err)
	}
	// The key can be written again after its directory emptied.
	MustPut(t, s, "a/b/c", []byte("again"), "")
	if b, _ := MustGet(t, s, "a/b/c"); string(b) != "again" {
		t.Errorf("rewritten = %q", b)
	}
}

// BadKeys are keys every store must refuse with EINVALID.
var BadKeys = []string{
	"", "/abs", "a/", "a//b", ".", "..", "../x", "a/../b", "a/./b", ".hidden", "a/.hidden",
	"a b", "a\\b", "a\x00b", "ü", "a?b", "a#b", "a%2e", "a:b", "~", "a\nb",
	strings.Repeat("a", blob.MaxKeyLen+1),
	strings.Repeat("a", 201),
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, key := range BadKeys {
		err := s.Put(ctx, key, strings.NewReader("x"), 1, "")
		wantCode(t, fmt.Sprintf("put %q", key), err, standing.EINVALID)
		_, _, err = s.Get(ctx, key)
		wantCode(t, fmt.Sprintf("get %q", key), err, standing.EINVALID)
		_, _, err = s.GetRange(ctx, key, 0, 1)
		wantCode(t, fmt.Sprintf("get range %q", key), err, standing.EINVALID)
		_, err = s.Stat(ctx, key)
		wantCode(t, fmt.Sprintf("stat %q", key), err, standing.EINVALID)
		err = s.Delete(ctx, key)
		wantCode(t, fmt.Sprintf("delete %q", key), err, standing.EINVALID)
		if blob.ValidateKey(key) == nil {
			t.Errorf("ValidateKey(%q) = nil", key)
		}
	}
	for _, prefix := range []string{"/abs", "a//", "..", "a/..", "a/.h", "a b", "ü"} {
		err := s.List(ctx, prefix, func(blob.Info) error { return nil })
		wantCode(t, fmt.Sprintf("list %q", prefix), err, standing.EINVALID)
	}
	// Nothing was written.
	n := 0
	s.List(ctx, "", func(blob.Info) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d objects after refused puts", n)
	}
}

func testValidKeys(t *testing.T, s blob.Store) {
	keys := []string{
		"a", "A", "0", "a.b", "a..b", "a.", "_", "-", "a-b_c.D", "apl_01jcx/ev_01jcy.webp",
		"x/y/z/w/v/u/t/s", strings.Repeat("k", 200),
		strings.Repeat("d/", 400) + "leaf",
	}
	for _, key := range keys {
		if err := blob.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v", key, err)
			continue
		}
		MustPut(t, s, key, []byte(key), "text/plain")
		if b, _ := MustGet(t, s, key); string(b) != key {
			t.Errorf("get %q = %q", key, b)
		}
	}
}

func testInvalidPut(t *testing.T, s blob.Store) {
	ctx := context.Background()
	err := s.Put(ctx, "k", strings.NewReader(""), -1, "")
	wantCode(t, "negative size", err, standing.EINVALID)
	err = s.Put(ctx, "k", strings.NewReader(""), blob.MaxSize+1, "")
	wantCode(t, "size over MaxSize", err, standing.ETOOLARGE)
	for _, ct := range []string{"not a type", "image/jpeg\r\nX-Injected: 1", "text/plain; charset", strings.Repeat("a", 300) + "/b"} {
		err = s.Put(ctx, "k", strings.NewReader("x"), 1, ct)
		wantCode(t, fmt.Sprintf("content type %q", ct), err, standing.EINVALID)
	}
	_, err = s.Stat(ctx, "k")
	wantCode(t, "stat after refused puts", err, standing.ENOTFOUND)
}

func testWrongLength(t *testing.T, s blob.Store) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB, more than a buffer or two
	for name, reader := range readers(body) {
		key := "short-" + name
		err := s.Put(ctx, key, reader(), int64(len(body))+1, "")
		wantCode(t, "body shorter than size ("+name+")", err, standing.EINVALID)
		_, err = s.Stat(ctx, key)
		wantCode(t, "stat after short body ("+name+")", err, standing.ENOTFOUND)

		key = "long-" + name
		err = s.Put(ctx, key, reader(), int64(len(body))-1, "")
		wantCode(t, "body longer than size ("+name+")", err, standing.EINVALID)
		_, err = s.Stat(ctx, key)
		wantCode(t, "stat after long body ("+name+")", err, standing.ENOTFOUND)

		key = "zero-" + name
		err = s.Put(ctx, key, reader(), 0, "")
		wantCode(t, "body longer than size 0 ("+name+")", err, standing.EINVALID)
		_, err = s.Stat(ctx, key)
		wantCode(t, "stat after long body for size 0 ("+name+")", err, standing.ENOTFOUND)
	}
	// A failed overwrite leaves the previous object.
	MustPut(t, s, "kept", []byte("previous"), "text/plain")
	err := s.Put(ctx, "kept", onlyReader{strings.NewReader("new")}, 10, "image/png")
	wantCode(t, "short overwrite", err, standing.EINVALID)
	b, info := MustGet(t, s, "kept")
	if string(b) != "previous" || info.ContentType != "text/plain" {
		t.Errorf("after a failed overwrite: %q %q, want the previous object", b, info.ContentType)
	}
}

func testLarge(t *testing.T, s blob.Store) {
	body := randomBytes(t, 5<<20+7)
	want := sha256.Sum256(body)
	for name, reader := range readers(body) {
		key := "large/" + name + ".mp4"
		if err := s.Put(context.Background(), key, reader(), int64(len(body)), "video/mp4"); err != nil {
			t.Fatalf("put %s: %v", name, err)
		}
		rc, info, err := s.Get(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(body)) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("get %s: %d bytes, not the %d put", name, n, len(body))
		}
		checkInfo(t, "get "+name, info, key, int64(len(body)), "video/mp4")
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	ctx := context.Background()
	const distinct, same = 12, 8
	bodies := make([][]byte, same)
	for i := range bodies {
		bodies[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10+i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, distinct+same)
	for i := range distinct {
		wg.Go(func() {
			key := fmt.Sprintf("c/%02d", i)
			errs <- s.Put(ctx, key, onlyReader{strings.NewReader(key)}, int64(len(key)), "text/plain")
		})
	}
	for i := range same {
		wg.Go(func() {
			ct := fmt.Sprintf("application/x-writer-%d", i)
			errs <- s.Put(ctx, "same", bytes.NewReader(bodies[i]), int64(len(bodies[i])), ct)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent put: %v", err)
		}
	}
	for i := range distinct {
		key := fmt.Sprintf("c/%02d", i)
		if b, _ := MustGet(t, s, key); string(b) != key {
			t.Errorf("get %q = %q", key, b)
		}
	}
	// The key written by all of them holds one writer's body, whole, with that writer's
	// content type.
	b, info := MustGet(t, s, "same")
	w := int(b[0] - 'a')
	if w < 0 || w >= same || !bytes.Equal(b, bodies[w]) {
		t.Fatalf("same key holds %d bytes starting %q: not one writer's body", len(b), b[:1])
	}
	if want := fmt.Sprintf("application/x-writer-%d", w); info.ContentType != want {
		t.Errorf("same key has writer %d's body with content type %q", w, info.ContentType)
	}
	var keys []string
	if err := s.List(ctx, "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != distinct+1 {
		t.Errorf("list = %d keys, want %d: %q", len(keys), distinct+1, keys)
	}
}

func list(t *testing.T, s blob.Store, prefix string) []blob.Info {
	t.Helper()
	var got []blob.Info
	if err := s.List(context.Background(), prefix, func(i blob.Info) error { got = append(got, i); return nil }); err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	return got
}

func keysOf(infos []blob.Info) []string {
	keys := make([]string, len(infos))
	for i, info := range infos {
		keys[i] = info.Key
	}
	return keys
}

func testList(t *testing.T, s blob.Store) {
	// Chosen so that a directory walk in name order is not key order: '-' and '.' sort
	// before '/', which sorts before letters and digits.
	keys := []string{"a/1", "a/2", "a-b", "a.c", "ab", "a/sub/x", "b/c/d", "a/sub-y", "a0"}
	for _, k := range keys {
		MustPut(t, s, k, []byte("content of "+k), "text/plain")
	}
	all := slices.Clone(keys)
	slices.Sort(all)
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a/", []string{"a/1", "a/2", "a/sub-y", "a/sub/x"}},
		{"a", []string{"a-b", "a.c", "a/1", "a/2", "a/sub-y", "a/sub/x", "a0", "ab"}},
		{"a/s", []string{"a/sub-y", "a/sub/x"}},
		{"a/sub/", []string{"a/sub/x"}},
		{"a/sub/x", []string{"a/sub/x"}},
		{"b/c", []string{"b/c/d"}},
		{"b/c/", []string{"b/c/d"}},
		{"c", nil},
		{"zzz/", nil},
		{"a/1/", nil},
	}
	for _, tt := range tests {
		got := list(t, s, tt.prefix)
		if !slices.Equal(keysOf(got), tt.want) {
			t.Errorf("list %q = %q, want %q", tt.prefix, keysOf(got), tt.want)
		}
		for _, info := range got {
			if info.Size != int64(len("content of "+info.Key)) {
				t.Errorf("list %q: %s has size %d", tt.prefix, info.Key, info.Size)
			}
			if d := time.Since(info.ModTime); info.ModTime.IsZero() || d < -time.Hour || d > time.Hour {
				t.Errorf("list %q: %s has ModTime %v", tt.prefix, info.Key, info.ModTime)
			}
		}
	}
}

func testListMany(t *testing.T, s blob.Store) {
	var want []string
	for i := range 40 {
		key := fmt.Sprintf("p/%03d", i)
		want = append(want, key)
		MustPut(t, s, key, []byte{byte(i)}, "")
	}
	MustPut(t, s, "q/outside", []byte("x"), "")
	if got := keysOf(list(t, s, "p/")); !slices.Equal(got, want) {
		t.Errorf("list p/ = %q", got)
	}
	if got := keysOf(list(t, s, "p/01")); !slices.Equal(got, want[10:20]) {
		t.Errorf("list p/01 = %q", got)
	}
}

func testListStops(t *testing.T, s blob.Store) {
	for i := range 10 {
		MustPut(t, s, fmt.Sprintf("s/%d", i), []byte("x"), "")
	}
	stop := errors.New("enough")
	n := 0
	err := s.List(context.Background(), "s/", func(blob.Info) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("list returned %v after %d calls, want the callback's error after 3", err, n)
	}
}

// blockingReader yields first, then blocks until ctx is done and fails with its error,
// like a client that stops sending half-way.
type blockingReader struct {
	ctx   context.Context
	first []byte
	sent  chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	if b.sent != nil {
		close(b.sent)
		b.sent = nil
	}
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func testCanceledPut(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Put(ctx, "canceled", strings.NewReader("x"), 1, "")
	if err == nil {
		t.Fatal("put with a canceled context succeeded")
	}
	_, err = s.Stat(context.Background(), "canceled")
	wantCode(t, "stat after canceled put", err, standing.ENOTFOUND)

	// Cancelled half-way through the body.
	ctx, cancel = context.WithCancel(context.Background())
	r := &blockingReader{ctx: ctx, first: bytes.Repeat([]byte("x"), 256<<10), sent: make(chan struct{})}
	sent := r.sent
	done := make(chan error, 1)
	go func() { done <- s.Put(ctx, "half", r, 1<<20, "") }()
	<-sent
	cancel()
	if err := <-done; err == nil {
		t.Fatal("put canceled half-way succeeded")
	}
	_, err = s.Stat(context.Background(), "half")
	wantCode(t, "stat after a put canceled half-way", err, standing.ENOTFOUND)
}
