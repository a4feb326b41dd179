package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"standing"
)

// S3Config configures an S3 store. Open fills it from an s3:// URL.
type S3Config struct {
	// Endpoint is the server's base URL, scheme and host only
	// ("http://127.0.0.1:7070"). Empty means AWS: https://s3.<Region>.amazonaws.com.
	Endpoint string
	// Region signs the requests; servers other than AWS mostly accept any, and
	// us-east-1 is the usual choice. Empty means us-east-1.
	Region string
	// Bucket is the bucket's name.
	Bucket string
	// Prefix, if not empty, is put before every key inside the bucket (with a '/'
	// between), so several stores can share a bucket. It follows the key rules.
	Prefix string
	// PathStyle addresses the bucket as <endpoint>/<bucket>/<key> instead of the
	// virtual-hosted <bucket>.<endpoint host>/<key>. Local servers need it.
	PathStyle bool
	// Credentials sign every request.
	Credentials Credentials
	// PageSize is how many keys one ListObjectsV2 call asks for: 1 to 1000, 0 meaning
	// 1000. Tests lower it to exercise continuation tokens.
	PageSize int
	// Client sends the requests; nil means a client over a clone of
	// http.DefaultTransport that waits at most a minute for a response's headers (give
	// requests a context deadline for an overall limit). Its redirect policy is replaced:
	// a signed S3 request must not be followed elsewhere.
	Client *http.Client
}

// S3 is a Store in a bucket of an S3-compatible server, spoken to with PutObject (a single
// PUT, up to MaxSize), GetObject, HeadObject, DeleteObject and ListObjectsV2 signed with
// AWS Signature Version 4.
//
// Put always signs the body's SHA-256, so the server refuses a body that was cut short or
// changed on the way instead of storing it (an UNSIGNED-PAYLOAD upload cut short is stored
// truncated by some servers; versitygw does). To hash before sending, Put reads an
// io.ReadSeeker (a file, a bytes.Reader) twice, and first copies any other reader into
// memory (up to 1 MiB) or into a temporary file in os.TempDir, removed afterwards. A body
// longer or shorter than the declared size is refused before anything is sent.
//
// Request times are the wall clock, not an injected standing.Clock: servers refuse
// signatures more than 15 minutes off their own time.
type S3 struct {
	client    *http.Client
	endpoint  *url.URL
	bucket    string
	prefix    string // "" or ending in "/"
	region    string
	pathStyle bool
	creds     Credentials
	pageSize  int
	now       func() time.Time
}

var _ Store = (*S3)(nil)

// NewS3 returns an S3 store for cfg. It sends no request; use CreateBucket or a first Put
// to find out whether the bucket is reachable.
func NewS3(cfg S3Config) (*S3, error) {
	bad := func(format string, args ...any) error {
		return standing.FieldErrorf(standing.EINVALID, "url", format, args...)
	}
	if err := validBucket(cfg.Bucket); err != nil {
		return nil, err
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	for _, c := range region {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return nil, bad("The S3 region %q is not a region name.", region)
		}
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://s3." + region + ".amazonaws.com"
	}
	ep, err := url.Parse(endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" ||
		(ep.Path != "" && ep.Path != "/") || ep.RawQuery != "" || ep.User != nil || ep.Fragment != "" {
		shown := "" // never echo user info: it may hold a secret
		if err == nil {
			shown = ep.Redacted()
		}
		return nil, bad("The S3 endpoint %q is not a base URL like https://host:port.", shown)
	}
	ep = &url.URL{Scheme: ep.Scheme, Host: ep.Host}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := ValidateKey(prefix); err != nil {
			return nil, bad("The S3 key prefix %q does not follow the key rules.", prefix)
		}
		prefix += "/"
	}
	if cfg.Credentials.AccessKeyID == "" || cfg.Credentials.SecretAccessKey == "" {
		return nil, bad("No S3 credentials: give them in the URL or in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.")
	}
	pageSize := cfg.PageSize
	if pageSize == 0 {
		pageSize = 1000
	}
	if pageSize < 1 || pageSize > 1000 {
		return nil, bad("The S3 page size %d is not between 1 and 1000.", pageSize)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute // counted from the end of the upload
	client := &http.Client{Transport: tr}
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &S3{
		client: client, endpoint: ep, bucket: cfg.Bucket, prefix: prefix, region: region,
		pathStyle: cfg.PathStyle, creds: cfg.Credentials, pageSize: pageSize, now: time.Now,
	}, nil
}

// validBucket checks the S3 bucket naming rules that matter for addressing: 3 to 63
// lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.
func validBucket(b string) error {
	ok := len(b) >= 3 && len(b) <= 63
	for i := 0; ok && i < len(b); i++ {
		c := b[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || (c == '.' || c == '-') && i > 0 && i < len(b)-1
	}
	if !ok {
		return standing.FieldErrorf(standing.EINVALID, "url", "The S3 bucket name %q is not valid: 3 to 63 lower-case letters, digits, '.' and '-'.", b)
	}
	return nil
}

// defaultPathStyle is the addressing Open picks when the URL does not say: path style for
// an IP address or localhost (there is no DNS name to put the bucket in), virtual-hosted
// otherwise, as AWS wants.
func defaultPathStyle(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || net.ParseIP(h) != nil
}

// String describes the store without its credentials: s3://bucket/prefix at the
// endpoint.
func (s *S3) String() string {
	return "s3://" + s.bucket + "/" + s.prefix + " at " + s.endpoint.String()
}

// Bucket returns the bucket's name.
func (s *S3) Bucket() string { return s.bucket }

// url returns the address of an object (objectKey != "") or of the bucket, with a raw
// query already in canonical form.
func (s *S3) url(objectKey string, query map[string]string) *url.URL {
	u := &url.URL{Scheme: s.endpoint.Scheme, Host: s.endpoint.Host}
	var path string
	if s.pathStyle {
		path = "/" + s.bucket
		if objectKey != "" {
			path += "/" + objectKey
		}
	} else {
		u.Host = s.bucket + "." + u.Host
		path = "/" + objectKey
	}
	u.Path = path
	u.RawPath = uriEncode(path, true)
	if len(query) > 0 {
		u.RawQuery = encodeQuery(query)
	}
	return u
}

// do signs and sends a request. body may be nil. rewind, if not nil, returns the body
// afresh, which lets the transport resend it on a connection that turned out dead.
func (s *S3) do(ctx context.Context, method string, u *url.URL, body io.Reader, size int64, payloadHash string, header http.Header, rewind func() (io.Reader, error)) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.URL = u // keep RawPath exactly as signed
	if body != nil && size > 0 {
		req.Body = io.NopCloser(body)
		req.ContentLength = size
		if rewind != nil {
			req.GetBody = func() (io.ReadCloser, error) {
				r, err := rewind()
				if err != nil {
					return nil, err
				}
				return io.NopCloser(r), nil
			}
		}
	} else if method == http.MethodPut || method == http.MethodPost {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signV4(req, s.creds, s.region, "s3", payloadHash, s.now())
	return s.client.Do(req)
}

// s3Error is an error response of the server.
type s3Error struct {
	Op, Key string
	Status  int
	Code    string
	Message string
}

func (e *s3Error) Error() string {
	msg := fmt.Sprintf("blob: s3 %s %q: %d", e.Op, e.Key, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// responseError reads an S3 error response (and closes its body).
func responseError(op, key string, resp *http.Response) *s3Error {
	defer resp.Body.Close()
	e := &s3Error{Op: op, Key: key, Status: resp.StatusCode}
	var body struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if xml.Unmarshal(b, &body) == nil {
		e.Code, e.Message = body.Code, body.Message
	}
	return e
}

// drain reads what is left of a body so the connection can be reused, and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// spoolLimit is the largest body of unknown provenance Put copies into memory; larger
// ones go to a temporary file.
const spoolLimit = 1 << 20

// Put stores the object with a single PutObject; see Store.Put and the notes on S3.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	contentType, err := checkPut(key, size, contentType)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		spooled, cleanup, err := spool(ctx, r, size)
		if err != nil {
			return putErr(ctx, err, key)
		}
		defer cleanup()
		rs = spooled
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return wrapf(err, "put", key)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(ctxReader{ctx, rs}, size+1))
	if err != nil {
		return putErr(ctx, err, key)
	}
	if n < size {
		return shortBody(size, n)
	}
	if n > size {
		return longBody(size)
	}
	rewind := func() (io.Reader, error) {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, err
		}
		return io.LimitReader(ctxReader{ctx, rs}, size), nil
	}
	body, err := rewind()
	if err != nil {
		return wrapf(err, "put", key)
	}
	hdr := http.Header{"Content-Type": {contentType}}
	resp, err := s.do(ctx, http.MethodPut, s.url(s.prefix+key, nil), body, size, hex.EncodeToString(h.Sum(nil)), hdr, rewind)
	if err != nil {
		return putErr(ctx, err, key)
	}
	if resp.StatusCode != http.StatusOK {
		return responseError("put", key, resp)
	}
	drain(resp)
	return nil
}

func putErr(ctx context.Context, err error, key string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var se *standing.Error
	if errors.As(err, &se) {
		return err
	}
	return wrapf(err, "put", key)
}

// spool copies a body that cannot be read twice into memory or a temporary file, checking
// its length on the way, and returns it ready to be read from the start.
func spool(ctx context.Context, r io.Reader, size int64) (io.ReadSeeker, func(), error) {
	src := io.LimitReader(ctxReader{ctx, r}, size+1)
	if size <= spoolLimit {
		b, err := io.ReadAll(src)
		if err != nil {
			return nil, nil, err
		}
		if int64(len(b)) < size {
			return nil, nil, shortBody(size, int64(len(b)))
		}
		if int64(len(b)) > size {
			return nil, nil, longBody(size)
		}
		return bytes.NewReader(b), func() {}, nil
	}
	f, err := os.CreateTemp("", "standing-blob-*")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	n, err := io.Copy(f, src)
	if err == nil && n < size {
		err = shortBody(size, n)
	}
	if err == nil && n > size {
		err = longBody(size)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return f, cleanup, nil
}

// infoFromHeader describes an object from the headers of a GET or HEAD response.
func infoFromHeader(key string, h http.Header) Info {
	info := Info{Key: key, ContentType: h.Get("Content-Type")}
	if info.ContentType == "" {
		info.ContentType = DefaultContentType
	}
	info.Size, _ = strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	info.ModTime, _ = http.ParseTime(h.Get("Last-Modified"))
	return info
}

// Get opens the object with GetObject; see Store.Get.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	return s.get(ctx, key, 0, -1)
}

// GetRange opens part of the object with a ranged GetObject; see Store.GetRange.
func (s *S3) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error) {
	if err := checkRange(key, offset); err != nil {
		return nil, Info{}, err
	}
	if length == 0 || offset >= MaxSize { // nothing to read: no object is that large
		info, err := s.Stat(ctx, key)
		if err != nil {
			return nil, Info{}, err
		}
		return http.NoBody, info, nil
	}
	if length > MaxSize {
		length = -1
	}
	return s.get(ctx, key, offset, length)
}

// get sends GetObject, with a Range header unless it asks for the whole object
// (offset 0, length < 0).
func (s *S3) get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error) {
	var hdr http.Header
	if offset > 0 || length >= 0 {
		rng := "bytes=" + strconv.FormatInt(offset, 10) + "-"
		if length >= 0 {
			rng += strconv.FormatInt(offset+length-1, 10)
		}
		hdr = http.Header{"Range": {rng}}
	}
	resp, err := s.do(ctx, http.MethodGet, s.url(s.prefix+key, nil), nil, 0, emptySHA256, hdr, nil)
	if err != nil {
		return nil, Info{}, s.transportErr(ctx, err, "get", key)
	}
	switch resp.StatusCode {
	case http.StatusOK: // the whole object, ranged or not
		info := infoFromHeader(key, resp.Header)
		if resp.ContentLength >= 0 {
			info.Size = resp.ContentLength
		}
		if offset == 0 && length < 0 {
			return resp.Body, info, nil
		}
		if offset >= info.Size {
			drain(resp)
			return http.NoBody, info, nil
		}
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			resp.Body.Close()
			return nil, Info{}, s.transportErr(ctx, err, "get", key)
		}
		if length < 0 {
			length = info.Size - offset
		}
		return limitedBody{io.LimitReader(resp.Body, length), resp.Body}, info, nil
	case http.StatusPartialContent:
		info := infoFromHeader(key, resp.Header)
		// Content-Range: bytes 0-9/1234 gives the whole object's size.
		cr := resp.Header.Get("Content-Range")
		total, err := strconv.ParseInt(cr[strings.LastIndex(cr, "/")+1:], 10, 64)
		if err != nil {
			resp.Body.Close()
			return nil, Info{}, fmt.Errorf("blob: s3 get %q: Content-Range %q", key, cr)
		}
		info.Size = total
		return resp.Body, info, nil
	case http.StatusRequestedRangeNotSatisfiable: // an offset at or past the end
		drain(resp)
		info, err := s.Stat(ctx, key)
		if err != nil {
			return nil, Info{}, err
		}
		return http.NoBody, info, nil
	case http.StatusNotFound:
		e := responseError("get", key, resp)
		if e.Code == "NoSuchKey" || e.Code == "" {
			return nil, Info{}, notFound(key)
		}
		return nil, Info{}, e
	default:
		return nil, Info{}, responseError("get", key, resp)
	}
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// Stat describes the object with HeadObject; see Store.Stat.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	resp, err := s.do(ctx, http.MethodHead, s.url(s.prefix+key, nil), nil, 0, emptySHA256, nil, nil)
	if err != nil {
		return Info{}, s.transportErr(ctx, err, "stat", key)
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return infoFromHeader(key, resp.Header), nil
	case http.StatusNotFound:
		return Info{}, notFound(key) // a HEAD response has no body to tell NoSuchBucket apart
	default:
		return Info{}, &s3Error{Op: "stat", Key: key, Status: resp.StatusCode}
	}
}

// Delete removes the object with DeleteObject; a missing key is not an error. See
// Store.Delete.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodDelete, s.url(s.prefix+key, nil), nil, 0, emptySHA256, nil, nil)
	if err != nil {
		return s.transportErr(ctx, err, "delete", key)
	}
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		drain(resp)
		return nil
	case http.StatusNotFound:
		if e := responseError("delete", key, resp); e.Code != "NoSuchKey" && e.Code != "" {
			return e
		}
		return nil
	default:
		return responseError("delete", key, resp)
	}
}

type listResult struct {
	Contents []struct {
		Key          string    `xml:"Key"`
		Size         int64     `xml:"Size"`
		LastModified time.Time `xml:"LastModified"`
	} `xml:"Contents"`
	IsTruncated           bool   `xml:"IsTruncated"`
	NextContinuationToken string `xml:"NextContinuationToken"`
}

// List walks the prefix with ListObjectsV2, following continuation tokens; see
// Store.List. Objects in the bucket whose keys break the key rules (written by other
// tools) are skipped.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	token := ""
	for {
		q := map[string]string{
			"list-type": "2",
			"max-keys":  strconv.Itoa(s.pageSize),
			"prefix":    s.prefix + prefix,
		}
		if token != "" {
			q["continuation-token"] = token
		}
		resp, err := s.do(ctx, http.MethodGet, s.url("", q), nil, 0, emptySHA256, nil, nil)
		if err != nil {
			return s.transportErr(ctx, err, "list", prefix)
		}
		if resp.StatusCode != http.StatusOK {
			return responseError("list", prefix, resp)
		}
		var res listResult
		err = xml.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&res)
		drain(resp)
		if err != nil {
			return fmt.Errorf("blob: s3 list %q: %w", prefix, err)
		}
		for _, c := range res.Contents {
			key, ok := strings.CutPrefix(c.Key, s.prefix)
			if !ok || ValidateKey(key) != nil {
				continue
			}
			if err := fn(Info{Key: key, Size: c.Size, ModTime: c.LastModified}); err != nil {
				return err
			}
		}
		if !res.IsTruncated {
			return nil
		}
		if res.NextContinuationToken == "" || res.NextContinuationToken == token {
			return fmt.Errorf("blob: s3 list %q: a truncated page without a new continuation token", prefix)
		}
		token = res.NextContinuationToken
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// CreateBucket creates the store's bucket (CreateBucket, with a LocationConstraint
// outside us-east-1). A bucket that already exists and is ours is not an error. Tests and
// first-time set-up use it; production buckets are usually made by the operator.
func (s *S3) CreateBucket(ctx context.Context) error {
	var body []byte
	if s.region != "us-east-1" {
		body = []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>` +
			s.region + `</LocationConstraint></CreateBucketConfiguration>`)
	}
	sum := sha256.Sum256(body)
	resp, err := s.do(ctx, http.MethodPut, s.url("", nil), bytes.NewReader(body), int64(len(body)), hex.EncodeToString(sum[:]), nil, func() (io.Reader, error) { return bytes.NewReader(body), nil })
	if err != nil {
		return s.transportErr(ctx, err, "create bucket", s.bucket)
	}
	if resp.StatusCode == http.StatusOK {
		drain(resp)
		return nil
	}
	e := responseError("create bucket", s.bucket, resp)
	if e.Code == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return e
}

func (s *S3) transportErr(ctx context.Context, err error, op, key string) error {
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return ctxErr
	}
	return fmt.Errorf("blob: s3 %s %q: %w", op, key, err)
}
