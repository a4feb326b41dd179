package apptest

import (
	"io"
	"net/http"
	"strings"
	"sync"
)

// WebhookSink is a webhook endpoint for tests: it keeps the body of every delivery.
type WebhookSink struct {
	mu     sync.Mutex
	bodies []string
}

// ServeHTTP keeps the delivery's body and answers 200.
func (h *WebhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.mu.Unlock()
}

// Count returns how many received webhooks are of the type.
func (h *WebhookSink) Count(typ string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, b := range h.bodies {
		if strings.Contains(b, `"type":"`+typ+`"`) {
			n++
		}
	}
	return n
}

// All returns every body received, one to a line.
func (h *WebhookSink) All() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.bodies, "\n")
}
