package blob

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A server that ignores Range and sends the whole object with 200 still gives GetRange
// the bytes asked for. (versitygw honours Range, so the contract suite never sees this.)
func TestS3GetRangeWhenServerIgnoresRange(t *testing.T) {
	var sawRange []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=K/") {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		sawRange = append(sawRange, r.Header.Get("Range"))
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Last-Modified", "Mon, 23 Nov 2026 10:00:00 GMT")
		io.WriteString(w, "0123456789")
	}))
	defer srv.Close()
	s, err := NewS3(S3Config{Endpoint: srv.URL, Bucket: "bkt", PathStyle: true, Credentials: Credentials{AccessKeyID: "K", SecretAccessKey: "S"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		offset, length int64
		want           string
	}{{0, -1, "0123456789"}, {2, 3, "234"}, {7, -1, "789"}, {12, 3, ""}} {
		rc, info, err := s.GetRange(context.Background(), "k", tt.offset, tt.length)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != tt.want || info.Size != 10 || info.ContentType != "video/mp4" {
			t.Errorf("GetRange(%d, %d) = %q %+v, want %q", tt.offset, tt.length, b, info, tt.want)
		}
	}
	if want := []string{"", "bytes=2-4", "bytes=7-", "bytes=12-14"}; strings.Join(sawRange, ",") != strings.Join(want, ",") {
		t.Errorf("Range headers sent = %q, want %q", sawRange, want)
	}
}

// The store's description, which a config dump prints, never holds the secret.
func TestS3StringHidesSecret(t *testing.T) {
	s, err := Open("s3://KEY:TOPSECRET@bkt/pre?endpoint=http://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.(*S3).String(); strings.Contains(got, "TOPSECRET") || got != "s3://bkt/pre/ at http://127.0.0.1:1" {
		t.Errorf("String() = %q", got)
	}
}
