package blob

import (
	"net/url"
	"strconv"
	"strings"

	"standing"
)

// Open returns the store a URL names:
//
//	/var/lib/standing/evidence          a local directory (Disk); relative paths too
//	file:///var/lib/standing/evidence   the same, as a URL
//	s3://bucket                         AWS S3, virtual-hosted, region from the environment
//	s3://bucket/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1&path_style=true
//	s3://KEY:SECRET@bucket/prefix?...   credentials in the URL (percent-encode the secret)
//
// For s3:// the parameters are endpoint (scheme and host of an S3-compatible server;
// default https://s3.<region>.amazonaws.com), region (default AWS_REGION, then
// AWS_DEFAULT_REGION, then us-east-1), path_style (true or false; default true for an IP
// address or localhost endpoint, false otherwise) and page_size (keys per ListObjectsV2
// call, default 1000). Other parameters are refused, so a typo does not pass silently.
// Credentials come from the URL's user info or else from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, read through getenv (which may be nil:
// no environment).
//
// Open touches nothing remote; a bad URL is EINVALID with field "url", and the message
// never repeats a secret.
func Open(rawURL string, getenv func(string) string) (Store, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	bad := func(format string, args ...any) error {
		return standing.FieldErrorf(standing.EINVALID, "url", format, args...)
	}
	if rawURL == "" {
		return nil, bad("The blob store URL is empty.")
	}
	if !strings.Contains(rawURL, "://") {
		return NewDisk(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, bad("The blob store URL cannot be parsed.")
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, bad("The file URL %q has a host; write file:///absolute/path or a plain path.", u.Redacted())
		}
		if u.RawQuery != "" || u.User != nil {
			return nil, bad("A file URL takes no parameters or user.")
		}
		if u.Path == "" {
			return nil, bad("The file URL %q has no path.", u.Redacted())
		}
		return NewDisk(u.Path)
	case "s3":
		cfg := S3Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
		if u.Port() != "" {
			return nil, bad("An s3 URL names a bucket, not a host:port; give the server as ?endpoint=.")
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, bad("The s3 URL's parameters cannot be parsed.")
		}
		pathStyle := ""
		for name, vs := range q {
			if len(vs) != 1 {
				return nil, bad("The s3 URL parameter %q is given %d times.", name, len(vs))
			}
			v := vs[0]
			switch name {
			case "endpoint":
				cfg.Endpoint = v
			case "region":
				cfg.Region = v
			case "path_style":
				pathStyle = v
			case "page_size":
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, bad("The s3 URL parameter page_size=%q is not a number.", v)
				}
				cfg.PageSize = n
			default:
				return nil, bad("The s3 URL parameter %q is unknown; use endpoint, region, path_style or page_size.", name)
			}
		}
		if cfg.Region == "" {
			cfg.Region = getenv("AWS_REGION")
		}
		if cfg.Region == "" {
			cfg.Region = getenv("AWS_DEFAULT_REGION")
		}
		if pathStyle != "" {
			b, err := strconv.ParseBool(pathStyle)
			if err != nil {
				return nil, bad("The s3 URL parameter path_style=%q is not true or false.", pathStyle)
			}
			cfg.PathStyle = b
		} else {
			cfg.PathStyle = cfg.Endpoint != "" && defaultPathStyle(cfg.Endpoint)
		}
		if u.User != nil {
			secret, ok := u.User.Password()
			if u.User.Username() == "" || !ok || secret == "" {
				return nil, bad("The s3 URL's user info must be ACCESS_KEY:SECRET.")
			}
			cfg.Credentials = Credentials{AccessKeyID: u.User.Username(), SecretAccessKey: secret}
		} else {
			cfg.Credentials = Credentials{
				AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
				SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
				SessionToken:    getenv("AWS_SESSION_TOKEN"),
			}
		}
		return NewS3(cfg)
	default:
		return nil, bad("The blob store URL scheme %q is not supported; use a path, file:// or s3://.", u.Scheme)
	}
}
