package httpapi

import (
	"net/http"
	"time"

	"standing"
	"standing/webhook"
)

// handleCreateWebhook serves POST /v1/webhooks: a new endpoint and its secret, shown once.
func handleCreateWebhook(s standing.WebhookStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.NewWebhookEndpoint
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		if err := in.Validate(); err != nil {
			return err
		}
		e, err := s.CreateWebhookEndpoint(r.Context(), in, webhook.NewSecret())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, e)
	}
}

// handleListWebhooks serves GET /v1/webhooks.
func handleListWebhooks(s standing.WebhookStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.WebhookEndpoints(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"endpoints": list, "event_types": standing.WebhookEventTypes})
	}
}

// handleGetWebhook serves GET /v1/webhooks/{id}.
func handleGetWebhook(s standing.WebhookStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := s.WebhookEndpoint(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, e)
	}
}

// handlePatchWebhook serves PATCH /v1/webhooks/{id}: change the URL, description or event
// types, or enable and disable the endpoint (disabling cancels its pending deliveries).
func handlePatchWebhook(s standing.WebhookStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.WebhookEndpointPatch
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		if err := in.Validate(); err != nil {
			return err
		}
		e, err := s.UpdateWebhookEndpoint(r.Context(), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, e)
	}
}

// rotateRequest is the body of POST /v1/webhooks/{id}/rotate.
type rotateRequest struct {
	// Overlap is how long the old secret keeps signing beside the new one ("24h", "0s").
	Overlap string `json:"overlap,omitempty"`
}

// defaultOverlap is how long a rotated-out secret keeps signing when no overlap is given.
const defaultOverlap = 24 * time.Hour

// handleRotateWebhook serves POST /v1/webhooks/{id}/rotate: a new secret, shown once. Until
// the overlap ends every delivery carries two signatures, one per secret, so the receiver
// can switch secrets at its own pace.
func handleRotateWebhook(s standing.WebhookStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in rotateRequest
		if err := decodeOptional(w, r, &in, maxBody); err != nil {
			return err
		}
		overlap := defaultOverlap
		if in.Overlap != "" {
			d, err := standing.ParseDuration(in.Overlap)
			if err != nil || d < 0 || d.D() > 30*24*time.Hour {
				return standing.FieldErrorf(standing.EINVALID, "overlap", "overlap is a duration from 0s to 30d, like 24h, not %q", in.Overlap)
			}
			overlap = d.D()
		}
		e, err := s.RotateWebhookSecret(r.Context(), r.PathValue("id"), webhook.NewSecret(), overlap)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, e)
	}
}

// handleWebhookDeliveries serves GET /v1/webhooks/{id}/deliveries (?state=pending).
func handleWebhookDeliveries(s standing.WebhookStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		state := r.URL.Query().Get("state")
		switch state {
		case "", standing.DeliveryPending, standing.DeliveryDelivered, standing.DeliveryFailed, standing.DeliveryCancelled:
		default:
			return standing.FieldErrorf(standing.EINVALID, "state", "state is pending, delivered, failed or cancelled")
		}
		limit, err := queryInt(r, "limit", 100, 1000)
		if err != nil {
			return err
		}
		list, err := s.WebhookDeliveries(r.Context(), r.PathValue("id"), state, limit)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"deliveries": list})
	}
}
