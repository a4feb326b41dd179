package blob

import (
	"path/filepath"
	"strings"
	"testing"

	"standing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestOpenDisk(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{dir + "/plain", "file://" + dir + "/url", "file://localhost" + dir + "/local"} {
		s, err := Open(u, nil)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		d, ok := s.(*Disk)
		if !ok {
			t.Fatalf("Open(%q) = %T, want *Disk", u, s)
		}
		if want := filepath.Join(dir, filepath.Base(u)); d.Root() != want {
			t.Errorf("Open(%q) root = %q, want %q", u, d.Root(), want)
		}
	}
}

func TestOpenS3(t *testing.T) {
	awsEnv := env(map[string]string{
		"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
		"AWS_REGION": "eu-west-1",
	})
	tests := []struct {
		url       string
		getenv    func(string) string
		endpoint  string
		region    string
		bucket    string
		prefix    string
		pathStyle bool
		creds     Credentials
		pageSize  int
		object    string // the URL of key "k/v"
	}{
		{
			url: "s3://evidence-bucket", getenv: awsEnv,
			endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1", bucket: "evidence-bucket",
			creds: Credentials{"ENVKEY", "envsecret", "envtoken"}, pageSize: 1000,
			object: "https://evidence-bucket.s3.eu-west-1.amazonaws.com/k/v",
		},
		{
			url: "s3://AK:se%2Fcr%2Bet@bkt/pre/fix/?endpoint=http://127.0.0.1:7070&region=us-east-1", getenv: awsEnv,
			endpoint: "http://127.0.0.1:7070", region: "us-east-1", bucket: "bkt", prefix: "pre/fix/", pathStyle: true,
			creds: Credentials{AccessKeyID: "AK", SecretAccessKey: "se/cr+et"}, pageSize: 1000,
			object: "http://127.0.0.1:7070/bkt/pre/fix/k/v",
		},
		{
			url: "s3://bkt?endpoint=http://localhost:9000&page_size=3", getenv: env(map[string]string{
				"AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_DEFAULT_REGION": "ap-south-1",
			}),
			endpoint: "http://localhost:9000", region: "ap-south-1", bucket: "bkt", pathStyle: true,
			creds: Credentials{AccessKeyID: "K", SecretAccessKey: "S"}, pageSize: 3,
			object: "http://localhost:9000/bkt/k/v",
		},
		{
			url: "s3://K:S@bkt?endpoint=https://minio.internal:9000&path_style=true", getenv: nil,
			endpoint: "https://minio.internal:9000", region: "us-east-1", bucket: "bkt", pathStyle: true,
			creds: Credentials{AccessKeyID: "K", SecretAccessKey: "S"}, pageSize: 1000,
			object: "https://minio.internal:9000/bkt/k/v",
		},
		{
			url: "s3://K:S@bkt?endpoint=http://127.0.0.1:7070&path_style=false", getenv: nil,
			endpoint: "http://127.0.0.1:7070", region: "us-east-1", bucket: "bkt",
			creds: Credentials{AccessKeyID: "K", SecretAccessKey: "S"}, pageSize: 1000,
			object: "http://bkt.127.0.0.1:7070/k/v",
		},
	}
	for _, tt := range tests {
		st, err := Open(tt.url, tt.getenv)
		if err != nil {
			t.Errorf("Open(%q): %v", tt.url, err)
			continue
		}
		s, ok := st.(*S3)
		if !ok {
			t.Errorf("Open(%q) = %T, want *S3", tt.url, st)
			continue
		}
		if s.endpoint.String() != tt.endpoint || s.region != tt.region || s.bucket != tt.bucket ||
			s.prefix != tt.prefix || s.pathStyle != tt.pathStyle || s.creds != tt.creds || s.pageSize != tt.pageSize {
			t.Errorf("Open(%q) = endpoint %q region %q bucket %q prefix %q path style %v creds %#v page %d",
				tt.url, s.endpoint, s.region, s.bucket, s.prefix, s.pathStyle, s.creds, s.pageSize)
		}
		if got := s.url(s.prefix+"k/v", nil).String(); got != tt.object {
			t.Errorf("Open(%q): object URL %q, want %q", tt.url, got, tt.object)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	creds := env(map[string]string{"AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S"})
	for _, u := range []string{
		"",
		"gs://bucket",
		"file://host/path",
		"file:///x?y=1",
		"s3://bkt",            // no credentials (with nil getenv)
		"s3://onlykey@bkt",    // user info without a secret
		"s3://K:S@bkt:9000",   // a port in the bucket
		"s3://K:S@Bad_Bucket", // bucket naming rules
		"s3://K:S@ab",         // too short
		"s3://K:S@bkt?endpoint=ftp://x",
		"s3://K:S@bkt?endpoint=http://h/path",
		"s3://K:S@bkt?regoin=us-east-1", // typo
		"s3://K:S@bkt?path_style=maybe",
		"s3://K:S@bkt?page_size=5000",
		"s3://K:S@bkt?page_size=x",
		"s3://K:S@bkt?region=US_EAST",
		"s3://K:S@bkt/../up",
		"s3://K:S@bkt/a b",
		"s3://K:S@bkt?region=a&region=b",
		"s3://K:S@bkt?endpoint=http://u:S@host", // user info in the endpoint
	} {
		_, err := Open(u, nil)
		if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != "url" {
			t.Errorf("Open(%q) = %v, want an invalid url", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "S@") {
			t.Errorf("Open(%q) error %q repeats the secret", u, err)
		}
	}
	// With credentials from the environment the bare URL is fine.
	if _, err := Open("s3://bkt", creds); err != nil {
		t.Errorf("Open with env credentials: %v", err)
	}
}
