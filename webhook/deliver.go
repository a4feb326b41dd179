package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"standing"
)

// UserAgent is sent with every delivery.
const UserAgent = "Standing-Webhooks/1"

// DefaultTimeout bounds a delivery when neither the client nor the context sets a limit; the
// specification recommends 15 to 30 seconds.
const DefaultTimeout = 30 * time.Second

// maxRedirects is how many same-host redirects a delivery follows.
const maxRedirects = 3

// ErrGone reports that the endpoint answered 410 Gone: it asks not to be sent webhooks any
// more, so the sender should disable it rather than retry.
var ErrGone = errors.New("webhook: the endpoint answered 410 Gone and asks to be disabled")

// DeliveryError is a failed delivery: Status is the HTTP status (0 when no response came),
// RetryAfter the wait the endpoint asked for in a Retry-After header (0 when none).
type DeliveryError struct {
	Status     int
	RetryAfter time.Duration
	Err        error
}

// Error gives the status, when there was one, and the cause.
func (e *DeliveryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("webhook: delivery failed with status %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("webhook: delivery failed: %v", e.Err)
}

// Unwrap returns the cause.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Retryable reports whether a failed delivery should be tried again later: false for
// success, for ErrGone (disable the endpoint instead) and for invalid input (a bad URL,
// secret, id or body, which no retry can fix); true for everything else — network errors,
// timeouts, redirects and non-2xx statuses.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, ErrGone) {
		return false
	}
	var se *standing.Error
	if errors.As(err, &se) && se.Code == standing.EINVALID {
		return false
	}
	return true
}

// Deliver POSTs one signed webhook to url and reports the HTTP status. The body must be
// JSON; it is sent as it is, with the webhook headers signed with every secret (see Sign),
// Content-Type application/json and User-Agent UserAgent. A 2xx status is success (nil
// error). Otherwise the error is a *DeliveryError: wrapping ErrGone for 410, the status
// and any Retry-After otherwise, or the transport error with status 0. Errors for invalid
// input are *standing.Error with code EINVALID.
//
// A nil client means one with DefaultTimeout. Deliver does not change the client it is
// given: it uses a copy that follows a redirect only to the same scheme and host and only
// when the method and body are kept (307, 308), at most 3 times; any other redirect is
// returned as a failed (retryable) delivery, since the specification asks senders not to
// follow redirects. The Retry-After date form is read relative to ts, the attempt time.
func Deliver(ctx context.Context, client *http.Client, url string, secrets []string, id string, ts time.Time, body []byte) (status int, err error) {
	u, err := standing.ParseWebhookURL(url)
	if err != nil {
		return 0, err
	}
	if !json.Valid(body) {
		return 0, standing.FieldErrorf(standing.EINVALID, "body", "a webhook body must be JSON")
	}
	headers, err := Headers(secrets, id, ts, body)
	if err != nil {
		return 0, err
	}
	c := &http.Client{Timeout: DefaultTimeout}
	if client != nil {
		cc := *client
		c = &cc
	}
	c.CheckRedirect = sameHostRedirect
	if _, ok := ctx.Deadline(); !ok && c.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, standing.FieldErrorf(standing.EINVALID, "url", "cannot make a request to %q: %v", url, err)
	}
	req.Header = headers
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)

	resp, err := c.Do(req)
	if err != nil {
		return 0, &DeliveryError{Err: err}
	}
	// Read a little of the body so the connection can be reused; the content is not used.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return resp.StatusCode, nil
	case resp.StatusCode == http.StatusGone:
		return resp.StatusCode, &DeliveryError{Status: resp.StatusCode, Err: ErrGone}
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return resp.StatusCode, &DeliveryError{Status: resp.StatusCode,
			Err: fmt.Errorf("redirect to %q not followed; update the endpoint's URL", resp.Header.Get("Location"))}
	}
	return resp.StatusCode, &DeliveryError{
		Status:     resp.StatusCode,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), ts),
		Err:        errors.New(http.StatusText(resp.StatusCode)),
	}
}

// sameHostRedirect follows a redirect only to the first request's scheme and host, and only
// when the method stayed POST (307 and 308; Go turns 301, 302 and 303 into GET, which would
// drop the body).
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if len(via) > maxRedirects || req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host || req.Method != first.Method {
		return http.ErrUseLastResponse
	}
	return nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date counted from now.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		const week = 7 * 24 * 60 * 60
		return time.Duration(min(max(n, 0), week)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
