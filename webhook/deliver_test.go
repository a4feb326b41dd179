package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"standing"
	"standing/webhook"
)

// receiver is an endpoint that verifies every webhook it gets with secret.
type receiver struct {
	secret string
	now    time.Time
	status int
	header http.Header // extra response headers
	got    atomic.Int32
	last   atomic.Pointer[http.Request]
	errs   chan error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.got.Add(1)
	rc.last.Store(r)
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(rc.secret, r.Header, body, rc.now, 0); err != nil {
		rc.errs <- err
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	for k, v := range rc.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rc.status)
}

func newReceiver(t *testing.T, secret string, now time.Time, status int) (*receiver, *httptest.Server) {
	rc := &receiver{secret: secret, now: now, status: status, errs: make(chan error, 10)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		close(rc.errs)
		for err := range rc.errs {
			t.Errorf("the receiver refused a webhook: %v", err)
		}
	})
	return rc, srv
}

var deliverTS = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const deliverBody = `{"type":"account.restricted","timestamp":"2026-11-23T12:00:00Z","data":{"account_id":"acc_1"}}`

func TestDeliverSuccess(t *testing.T) {
	secret := webhook.NewSecret()
	for _, status := range []int{200, 202, 204} {
		rc, srv := newReceiver(t, secret, deliverTS.Add(10*time.Second), status)
		client := srv.Client()
		got, err := webhook.Deliver(context.Background(), client, srv.URL+"/hooks", []string{webhook.NewSecret(), secret}, "msg_1", deliverTS, []byte(deliverBody))
		if err != nil || got != status {
			t.Fatalf("Deliver = %d, %v; want %d, nil", got, err, status)
		}
		r := rc.last.Load()
		if r.Method != http.MethodPost || r.URL.Path != "/hooks" {
			t.Errorf("request %s %s, want POST /hooks", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if ua := r.Header.Get("User-Agent"); ua != webhook.UserAgent {
			t.Errorf("User-Agent = %q", ua)
		}
		if client.CheckRedirect != nil {
			t.Error("Deliver changed the caller's client")
		}
	}
}

func TestDeliverFailures(t *testing.T) {
	secret := webhook.NewSecret()
	tests := []struct {
		name       string
		status     int
		header     http.Header
		gone       bool
		retryAfter time.Duration
	}{
		{"gone", http.StatusGone, nil, true, 0},
		{"server error", http.StatusInternalServerError, nil, false, 0},
		{"not found", http.StatusNotFound, nil, false, 0},
		{"throttled, seconds", http.StatusTooManyRequests, http.Header{"Retry-After": {"120"}}, false, 2 * time.Minute},
		{"unavailable, date", http.StatusServiceUnavailable, http.Header{"Retry-After": {deliverTS.Add(time.Hour).Format(http.TimeFormat)}}, false, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, srv := newReceiver(t, secret, deliverTS, tt.status)
			rc.header = tt.header
			got, err := webhook.Deliver(context.Background(), srv.Client(), srv.URL, []string{secret}, "msg_f", deliverTS, []byte(deliverBody))
			if got != tt.status {
				t.Errorf("status = %d, want %d", got, tt.status)
			}
			var de *webhook.DeliveryError
			if !errors.As(err, &de) || de.Status != tt.status {
				t.Fatalf("err = %#v, want a *DeliveryError with status %d", err, tt.status)
			}
			if errors.Is(err, webhook.ErrGone) != tt.gone {
				t.Errorf("errors.Is(err, ErrGone) = %v, want %v", !tt.gone, tt.gone)
			}
			if webhook.Retryable(err) == tt.gone {
				t.Errorf("Retryable = %v, want %v", tt.gone, !tt.gone)
			}
			if de.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %s, want %s", de.RetryAfter, tt.retryAfter)
			}
		})
	}
}

func TestDeliverRedirects(t *testing.T) {
	secret := webhook.NewSecret()
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
	}))
	defer other.Close()

	rc := &receiver{secret: secret, now: deliverTS, status: http.StatusOK, errs: make(chan error, 10)}
	mux := http.NewServeMux()
	mux.Handle("POST /final", rc)
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/final", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final", http.StatusPermanentRedirect)
	})
	mux.HandleFunc("/found", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	deliver := func(path string) (int, error) {
		return webhook.Deliver(context.Background(), nil, srv.URL+path, []string{secret}, "msg_r", deliverTS, []byte(deliverBody))
	}
	// 308 to the same host keeps the method, body and headers: followed, and the signature holds.
	if got, err := deliver("/moved"); err != nil || got != http.StatusOK || rc.got.Load() != 1 {
		t.Errorf("same-host 308: %d, %v, %d hits; want 200, nil, 1 hit", got, err, rc.got.Load())
	}
	// A redirect to another host is not followed.
	got, err := deliver("/elsewhere")
	if got != http.StatusTemporaryRedirect || !webhook.Retryable(err) || otherHits.Load() != 0 {
		t.Errorf("redirect to another host: %d, %v, %d hits there; want 307, a retryable error, none", got, err, otherHits.Load())
	}
	// A 302 would turn the POST into a GET without the body: not followed.
	if got, err := deliver("/found"); got != http.StatusFound || err == nil {
		t.Errorf("same-host 302: %d, %v; want 302 and an error", got, err)
	}
	// A loop stops.
	if got, err := deliver("/loop"); got != http.StatusTemporaryRedirect || err == nil {
		t.Errorf("redirect loop: %d, %v; want 307 and an error", got, err)
	}
	close(rc.errs)
	for err := range rc.errs {
		t.Errorf("the receiver refused a webhook: %v", err)
	}
}

func TestDeliverTransportErrors(t *testing.T) {
	secret := webhook.NewSecret()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	got, err := webhook.Deliver(context.Background(), nil, url, []string{secret}, "msg_t", deliverTS, []byte(deliverBody))
	var de *webhook.DeliveryError
	if got != 0 || !errors.As(err, &de) || de.Status != 0 || !webhook.Retryable(err) {
		t.Errorf("closed server: %d, %v; want 0 and a retryable *DeliveryError", got, err)
	}

	// A cancelled context is a retryable failure too.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := webhook.Deliver(ctx, nil, slow.URL, []string{secret}, "msg_t", deliverTS, []byte(deliverBody)); !errors.Is(err, context.Canceled) || !webhook.Retryable(err) {
		t.Errorf("cancelled: %v; want a retryable context.Canceled", err)
	}
}

func TestDeliverRefusesBadInput(t *testing.T) {
	secret := webhook.NewSecret()
	tests := []struct {
		name    string
		url     string
		secrets []string
		id      string
		body    string
		field   string
	}{
		{"ftp url", "ftp://example.com/x", []string{secret}, "msg_1", `{}`, "url"},
		{"relative url", "/hooks", []string{secret}, "msg_1", `{}`, "url"},
		{"credentials in url", "https://u:p@example.com/", []string{secret}, "msg_1", `{}`, "url"},
		{"not json", "https://example.com/", []string{secret}, "msg_1", `not json`, "body"},
		{"no secret", "https://example.com/", nil, "msg_1", `{}`, "secrets"},
		{"bad id", "https://example.com/", []string{secret}, "a.b", `{}`, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.Deliver(context.Background(), nil, tt.url, tt.secrets, tt.id, deliverTS, []byte(tt.body))
			if got != 0 || standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tt.field {
				t.Errorf("Deliver = %d, %v; want invalid %s", got, err, tt.field)
			}
			if webhook.Retryable(err) {
				t.Error("invalid input is retryable")
			}
		})
	}
}
