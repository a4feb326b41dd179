package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The vectors of the AWS SigV4 test suite (the aws-sig-v4-test-suite published with the
// SigV4 documentation, as carried in awslabs/aws-c-auth tests/aws-signing-test-suite/v4):
// service "service", region us-east-1, 2015-08-30T12:36:00Z, key AKIDEXAMPLE. Only cases
// where S3's single-encoding, unnormalised path rule agrees with the generic one are used.
func TestSignV4TestSuite(t *testing.T) {
	suite := Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	const scope = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	tests := []struct {
		name    string
		url     string
		headers [][2]string
		token   string
		signed  string
		sig     string
	}{
		{name: "get-vanilla", url: "https://example.amazonaws.com/",
			signed: "host;x-amz-date", sig: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{name: "get-vanilla-query-order-key-case", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1",
			signed: "host;x-amz-date", sig: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{name: "get-vanilla-empty-query-key", url: "https://example.amazonaws.com/?Param1=value1",
			signed: "host;x-amz-date", sig: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
		{name: "get-vanilla-query-unreserved", url: "https://example.amazonaws.com/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
			signed: "host;x-amz-date", sig: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
		{name: "get-vanilla-utf8-query", url: "https://example.amazonaws.com/?ሴ=bar",
			signed: "host;x-amz-date", sig: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
		{name: "get-unreserved", url: "https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
			signed: "host;x-amz-date", sig: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
		{name: "get-utf8", url: "https://example.amazonaws.com/ሴ",
			signed: "host;x-amz-date", sig: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
		{name: "get-header-value-trim", url: "https://example.amazonaws.com/",
			headers: [][2]string{{"My-Header1", " value1"}, {"My-Header2", ` "a   b   c"`}},
			signed:  "host;my-header1;my-header2;x-amz-date", sig: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
		{name: "get-vanilla-with-session-token", url: "https://example.amazonaws.com/",
			token:  "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
			signed: "host;x-amz-date;x-amz-security-token", sig: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tt.headers {
				req.Header.Set(h[0], h[1])
			}
			c := suite
			c.SessionToken = tt.token
			signV4(req, c, "us-east-1", "service", emptySHA256, at)
			want := "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=" + tt.signed + ", Signature=" + tt.sig
			if got := req.Header.Get("Authorization"); got != want {
				canonical, _ := canonicalRequest(req, emptySHA256)
				t.Errorf("Authorization =\n  %s\nwant\n  %s\ncanonical request:\n%s", got, want, canonical)
			}
		})
	}
}

// The S3 examples of the SigV4 documentation ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk"): bucket examplebucket,
// key AKIAIOSFODNN7EXAMPLE, 2013-05-24T00:00:00Z, us-east-1, service s3, each request
// signing x-amz-content-sha256.
func TestSignV4S3Examples(t *testing.T) {
	docs := Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	body := "Welcome to Amazon S3."
	sum := sha256.Sum256([]byte(body))
	bodyHash := hex.EncodeToString(sum[:])
	if bodyHash != "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" {
		t.Fatalf("the example body hashes to %s", bodyHash)
	}
	tests := []struct {
		name    string
		method  string
		url     string
		headers [][2]string
		payload string
		signed  string
		sig     string
	}{
		{name: "GET Object", method: http.MethodGet, url: "https://examplebucket.s3.amazonaws.com/test.txt",
			headers: [][2]string{{"Range", "bytes=0-9"}}, payload: emptySHA256,
			signed: "host;range;x-amz-content-sha256;x-amz-date", sig: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		{name: "PUT Object", method: http.MethodPut, url: "https://examplebucket.s3.amazonaws.com/test$file.text",
			headers: [][2]string{{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"X-Amz-Storage-Class", "REDUCED_REDUNDANCY"}}, payload: bodyHash,
			signed: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", sig: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
		{name: "GET Bucket Lifecycle", method: http.MethodGet, url: "https://examplebucket.s3.amazonaws.com/?lifecycle", payload: emptySHA256,
			signed: "host;x-amz-content-sha256;x-amz-date", sig: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
		{name: "Get Bucket (List Objects)", method: http.MethodGet, url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", payload: emptySHA256,
			signed: "host;x-amz-content-sha256;x-amz-date", sig: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tt.headers {
				req.Header.Set(h[0], h[1])
			}
			req.Header.Set("X-Amz-Content-Sha256", tt.payload)
			signV4(req, docs, "us-east-1", "s3", tt.payload, at)
			want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=" + tt.signed + ", Signature=" + tt.sig
			if got := req.Header.Get("Authorization"); got != want {
				canonical, _ := canonicalRequest(req, tt.payload)
				t.Errorf("Authorization =\n  %s\nwant\n  %s\ncanonical request:\n%s", got, want, canonical)
			}
		})
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct {
		in        string
		keepSlash bool
		want      string
	}{
		{"/test$file.text", true, "/test%24file.text"},
		{"a b/c", true, "a%20b/c"},
		{"a b/c", false, "a%20b%2Fc"},
		{"-._~AZaz09", false, "-._~AZaz09"},
		{"ü+=&", false, "%C3%BC%2B%3D%26"},
	}
	for _, tt := range tests {
		if got := uriEncode(tt.in, tt.keepSlash); got != tt.want {
			t.Errorf("uriEncode(%q, %v) = %q, want %q", tt.in, tt.keepSlash, got, tt.want)
		}
	}
	if got, want := canonicalQuery("prefix=a%2Fb&list-type=2&continuation-token=x%2By%3D"), "continuation-token=x%2By%3D&list-type=2&prefix=a%2Fb"; got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
	if got, want := encodeQuery(map[string]string{"prefix": "a/b", "list-type": "2"}), "list-type=2&prefix=a%2Fb"; got != want {
		t.Errorf("encodeQuery = %q, want %q", got, want)
	}
}

func TestCredentialsStringMasksSecret(t *testing.T) {
	c := Credentials{AccessKeyID: "AK", SecretAccessKey: "very-secret", SessionToken: "tok"}
	if s := c.String(); strings.Contains(s, "very-secret") || strings.Contains(s, "tok") {
		t.Errorf("String() = %q shows a secret", s)
	}
}
