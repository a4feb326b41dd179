// Package blob stores appeal evidence: the photos, PDFs and videos a person uploads with an
// appeal. A Store is a flat namespace of keys, each naming an object (replaced whole by
// every write) with a content type. Two implementations speak the same contract
// (blob/blobtest runs it against both):
//
//   - Disk, a local directory (the default). Every Put is written to a temporary file in
//     the key's directory, fsynced, renamed over the final name and the directory fsynced,
//     so a crash at any moment (kill -9, power loss) leaves either the old object or the
//     new one under a key, never half of one.
//   - S3, any S3-compatible server (AWS S3, versitygw, MinIO, Ceph RGW, R2), spoken to by a
//     small client written here over net/http and AWS Signature Version 4, so Standing
//     carries no AWS SDK.
//
// Open picks one from a URL (see Open for the formats).
//
// # Keys
//
// A key is 1 to 1024 bytes of ASCII letters, digits, '.', '_' and '-', in segments
// separated by single '/'. No segment is empty or starts with '.', so "..", ".", absolute
// paths, backslashes and hidden files are impossible and a key is a safe relative path on
// every file system. Keys are case-sensitive; do not deploy the disk store on a
// case-insensitive file system. Invalid keys (and List prefixes) are refused with
// EINVALID before anything is touched.
//
// # Errors
//
// Methods return *standing.Error with code ENOTFOUND for a missing key, EINVALID for a bad
// key, prefix, size, content type or a body whose length differs from the declared size,
// ETOOLARGE for a size over MaxSize, and ECONFLICT where the disk store cannot hold a key
// (see Disk). Anything else (I/O, network, an S3 error response) is a plain error, which
// standing.ErrorCode reports as EINTERNAL.
package blob

import (
	"context"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"standing"
)

// MaxSize is the largest object a Store accepts: the limit of a single S3 PUT (5 GiB).
// Evidence policy limits (50 MB for video) are far below it and enforced by the caller.
const MaxSize int64 = 5 << 30

// MaxKeyLen is the longest key, in bytes.
const MaxKeyLen = 1024

// maxSegmentLen bounds one segment of a key so that the disk store's metadata file name
// (".<segment>.meta") stays within the 255-byte name limit of common file systems.
const maxSegmentLen = 200

// DefaultContentType is the content type of an object stored without one.
const DefaultContentType = "application/octet-stream"

// Info describes a stored object.
type Info struct {
	// Key is the object's key.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// ContentType is the media type given to Put. List leaves it empty (neither S3's
	// listing nor the disk store's directory walk carries it cheaply); Get and Stat fill
	// it.
	ContentType string
	// ModTime is when the object was last written, as the backend records it (the disk
	// store with nanoseconds, S3 to the second in Stat and Get and to the millisecond in
	// List).
	ModTime time.Time
}

// Store is a blob store. Implementations are safe for concurrent use.
type Store interface {
	// Put stores size bytes read from r under key with the given content type, replacing
	// any object already there. The object becomes visible whole or not at all: until Put
	// returns nil, readers see the previous object (or none). r must yield exactly size
	// bytes; a shorter or longer body is refused with EINVALID and nothing is stored.
	// An empty contentType stores DefaultContentType; a malformed one is EINVALID.
	// A negative size is EINVALID, one over MaxSize is ETOOLARGE.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error

	// Get opens the object under key for reading; the caller closes the reader. It
	// returns ENOTFOUND if there is no such object, EINVALID for a bad key.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)

	// GetRange is Get for part of the object: length bytes from offset, fewer where the
	// object ends first, all of the rest for a negative length, none for an offset at or
	// past the end. Info still describes the whole object, so a caller can answer an HTTP
	// Range request (video in the reviewer console) with Content-Range. A negative offset
	// is EINVALID; otherwise the errors of Get.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error)

	// Stat describes the object under key without reading it: ENOTFOUND if there is no
	// such object, EINVALID for a bad key.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes the object under key. Deleting a key that does not exist is not an
	// error (deletes are idempotent, as in S3, so an erasure job can be retried); a bad
	// key is EINVALID.
	Delete(ctx context.Context, key string) error

	// List calls fn for every object whose key starts with prefix, in ascending
	// byte-wise key order, with Key, Size and ModTime filled (not ContentType). An empty
	// prefix lists everything. If fn returns an error List stops and returns it
	// unchanged. A bad prefix is EINVALID. Objects written or deleted during a List may or
	// may not be seen.
	List(ctx context.Context, prefix string, fn func(Info) error) error
}

// ValidateKey returns an EINVALID *standing.Error naming field "key" unless key is a valid
// key (see the package comment).
func ValidateKey(key string) error {
	if key == "" {
		return standing.FieldErrorf(standing.EINVALID, "key", "The key is empty.")
	}
	if len(key) > MaxKeyLen {
		return standing.FieldErrorf(standing.EINVALID, "key", "The key is longer than %d bytes.", MaxKeyLen)
	}
	return checkSegments(key, false)
}

// validatePrefix accepts "" and any string that begins some valid key: the same rules as
// a key except that it may end with '/' and its last segment may be partial.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > MaxKeyLen {
		return standing.FieldErrorf(standing.EINVALID, "prefix", "The prefix is longer than %d bytes.", MaxKeyLen)
	}
	return checkSegments(prefix, true)
}

func checkSegments(s string, isPrefix bool) error {
	field, what := "key", "key"
	if isPrefix {
		field, what = "prefix", "prefix"
	}
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		if seg == "" {
			if isPrefix && last {
				continue // "a/" lists the directory a
			}
			return standing.FieldErrorf(standing.EINVALID, field, "The %s %q has an empty segment (a leading, trailing or doubled '/').", what, s)
		}
		if seg[0] == '.' {
			return standing.FieldErrorf(standing.EINVALID, field, "The %s %q has a segment starting with '.'.", what, s)
		}
		if len(seg) > maxSegmentLen {
			return standing.FieldErrorf(standing.EINVALID, field, "The %s %q has a segment longer than %d bytes.", what, s, maxSegmentLen)
		}
		for j := 0; j < len(seg); j++ {
			if !keyByte(seg[j]) {
				return standing.FieldErrorf(standing.EINVALID, field, "The %s %q has the character %q; use letters, digits, '.', '_', '-' and '/'.", what, s, rune(seg[j]))
			}
		}
	}
	return nil
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// checkPut validates the arguments every Put shares and returns the content type to store.
func checkPut(key string, size int64, contentType string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if size < 0 {
		return "", standing.FieldErrorf(standing.EINVALID, "size", "The size %d is negative.", size)
	}
	if size > MaxSize {
		return "", standing.FieldErrorf(standing.ETOOLARGE, "size", "The object is %d bytes; the limit is %d.", size, MaxSize)
	}
	if contentType == "" {
		return DefaultContentType, nil
	}
	if len(contentType) > 255 {
		return "", standing.FieldErrorf(standing.EINVALID, "content_type", "The content type is longer than 255 bytes.")
	}
	for i := 0; i < len(contentType); i++ {
		if c := contentType[i]; c < 0x20 || c > 0x7e {
			return "", standing.FieldErrorf(standing.EINVALID, "content_type", "The content type has a character outside printable ASCII.")
		}
	}
	if _, _, err := mime.ParseMediaType(contentType); err != nil {
		return "", standing.FieldErrorf(standing.EINVALID, "content_type", "The content type %q is not a media type.", contentType)
	}
	return contentType, nil
}

func checkRange(key string, offset int64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if offset < 0 {
		return standing.FieldErrorf(standing.EINVALID, "offset", "The offset %d is negative.", offset)
	}
	return nil
}

func notFound(key string) error {
	return standing.FieldErrorf(standing.ENOTFOUND, "key", "No object %q.", key)
}

func shortBody(size, got int64) error {
	return standing.FieldErrorf(standing.EINVALID, "size", "The body has %d bytes, not the %d declared.", got, size)
}

func longBody(size int64) error {
	return standing.FieldErrorf(standing.EINVALID, "size", "The body is longer than the %d bytes declared.", size)
}

// ctxReader fails reads once ctx is done, so a long copy from a slow or endless source
// stops when the caller gives up.
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

// wrapf adds the operation and key to an internal error.
func wrapf(err error, op, key string) error {
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}
