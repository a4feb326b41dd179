package standing

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// The webhook event types. Later features append theirs to WebhookEventTypes.
const (
	WebhookAccountRestricted  = "account.restricted"
	WebhookRestrictionLifted  = "restriction.lifted"
	WebhookRestrictionExpired = "restriction.expired"
	WebhookOrderClosed        = "order.closed"
)

// WebhookEventTypes lists the types an endpoint may subscribe to.
var WebhookEventTypes = []string{WebhookAccountRestricted, WebhookRestrictionLifted, WebhookRestrictionExpired, WebhookOrderClosed}

// WebhookEndpoint is a URL of the marketplace that receives signed webhooks. The secret is
// shown once, when the endpoint is made or its secret rotated.
type WebhookEndpoint struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Description string   `json:"description,omitempty"`
	EventTypes  []string `json:"event_types"` // empty: every type
	Enabled     bool     `json:"enabled"`
	// DisabledReason says why an endpoint is off: by an operator, or because it answered
	// 410 Gone.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Secret is set only in the answer that creates the endpoint or rotates its secret.
	Secret string `json:"secret,omitempty"`
	// PreviousSecretExpiresAt is set while a rotated-out secret still signs deliveries.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// Subscribes reports whether the endpoint wants events of type typ.
func (e *WebhookEndpoint) Subscribes(typ string) bool {
	return len(e.EventTypes) == 0 || HasString(e.EventTypes, typ)
}

// NewWebhookEndpoint is a request for an endpoint.
type NewWebhookEndpoint struct {
	URL         string   `json:"url"`
	Description string   `json:"description,omitempty"`
	EventTypes  []string `json:"event_types,omitempty"`
}

// Validate checks the URL and the event types.
func (n *NewWebhookEndpoint) Validate() error {
	if err := checkWebhookURL(n.URL); err != nil {
		return err
	}
	if len(n.Description) > MaxNoteLen {
		return FieldErrorf(EINVALID, "description", "description is longer than %d characters", MaxNoteLen)
	}
	return checkEventTypes(n.EventTypes)
}

// WebhookEndpointPatch changes an endpoint; nil fields stay.
type WebhookEndpointPatch struct {
	URL         *string   `json:"url,omitempty"`
	Description *string   `json:"description,omitempty"`
	EventTypes  *[]string `json:"event_types,omitempty"`
	Enabled     *bool     `json:"enabled,omitempty"`
}

// Validate checks the patch.
func (p *WebhookEndpointPatch) Validate() error {
	if p.URL == nil && p.Description == nil && p.EventTypes == nil && p.Enabled == nil {
		return Errorf(EINVALID, "the patch changes nothing; give url, description, event_types or enabled")
	}
	if p.URL != nil {
		if err := checkWebhookURL(*p.URL); err != nil {
			return err
		}
	}
	if p.Description != nil && len(*p.Description) > MaxNoteLen {
		return FieldErrorf(EINVALID, "description", "description is longer than %d characters", MaxNoteLen)
	}
	if p.EventTypes != nil {
		return checkEventTypes(*p.EventTypes)
	}
	return nil
}

func checkWebhookURL(raw string) error {
	_, err := ParseWebhookURL(raw)
	return err
}

// ParseWebhookURL parses a webhook endpoint's URL: http or https with a host, at most
// 2,000 characters, no user name or password. It is the one check of an endpoint's URL,
// made when the endpoint is saved and again before each delivery. EINVALID (field url)
// names what is wrong.
func ParseWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2000 {
		return nil, FieldErrorf(EINVALID, "url", "a webhook endpoint is an http:// or https:// URL, not %q", raw)
	}
	if u.User != nil {
		return nil, FieldErrorf(EINVALID, "url", "a webhook endpoint URL must not carry a user name or password")
	}
	return u, nil
}

func checkEventTypes(types []string) error {
	for _, t := range types {
		if !HasString(WebhookEventTypes, t) {
			return FieldErrorf(EINVALID, "event_types", "unknown event type %q; known: %s", t, strings.Join(WebhookEventTypes, ", "))
		}
	}
	return nil
}

// Webhook delivery states.
const (
	DeliveryPending   = "pending"   // not delivered yet; retried with backoff
	DeliveryDelivered = "delivered" // the endpoint answered 2xx
	DeliveryFailed    = "failed"    // given up: the endpoint answered 410, or retries ran out
	DeliveryCancelled = "cancelled" // the endpoint was disabled before it was delivered
)

// WebhookMessage is one webhook as the outbox holds it: written in the same transaction as
// the change it reports. Payload holds ids, reason codes and times, never personal data.
type WebhookMessage struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	AccountID string          `json:"account_id,omitempty"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
}

// WebhookDelivery is one message on its way to one endpoint.
type WebhookDelivery struct {
	ID            string     `json:"id"`
	EndpointID    string     `json:"endpoint_id"`
	MessageID     string     `json:"message_id"`
	EventType     string     `json:"event_type"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// WebhookStore keeps endpoints and their deliveries.
type WebhookStore interface {
	// CreateWebhookEndpoint stores an endpoint with a new secret and returns it with the
	// secret shown.
	CreateWebhookEndpoint(ctx context.Context, n NewWebhookEndpoint, secret string) (WebhookEndpoint, error)
	// WebhookEndpoints lists the endpoints, oldest first.
	WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error)
	// WebhookEndpoint returns one endpoint; ENOTFOUND if none.
	WebhookEndpoint(ctx context.Context, id string) (WebhookEndpoint, error)
	// UpdateWebhookEndpoint applies a patch; disabling cancels the pending deliveries.
	UpdateWebhookEndpoint(ctx context.Context, id string, p WebhookEndpointPatch) (WebhookEndpoint, error)
	// RotateWebhookSecret makes secret the endpoint's secret; the old one keeps signing
	// (a second signature) until overlap has passed.
	RotateWebhookSecret(ctx context.Context, id, secret string, overlap time.Duration) (WebhookEndpoint, error)
	// WebhookDeliveries lists an endpoint's deliveries, newest first, in state if given.
	WebhookDeliveries(ctx context.Context, endpointID, state string, limit int) ([]WebhookDelivery, error)
}
