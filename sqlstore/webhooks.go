package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"standing"
	"standing/jobs"
)

// JobDeliverWebhook is the job that sends one webhook message to one endpoint.
const JobDeliverWebhook = "webhook.deliver"

// webhookMaxAttempts bounds the retries of one delivery: with the runner's backoff (5 s
// doubling to an hour) that is about eight days of trying.
const webhookMaxAttempts = 200

// emit writes a webhook message to the outbox in the transaction, with a delivery and a
// durable delivery job for every enabled endpoint that subscribes to typ. data is the
// message's data object: ids, reason codes and times — never names, emails or other
// personal data, which the marketplace already has and must not receive again.
func (t *tx) emit(typ, accountID string, data any) error {
	id := standing.NewID("msg", t.now)
	body, err := json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      any       `json:"data"`
	}{typ, t.now, data})
	if err != nil {
		return err
	}
	if _, err := t.exec("INSERT INTO webhook_messages (id, type, account_id, payload, created_at) VALUES (?, ?, ?, ?, ?)",
		id, typ, accountID, string(body), ts(t.now)); err != nil {
		return err
	}
	rows, err := t.query("SELECT id, event_types FROM webhook_endpoints WHERE enabled = 1")
	if err != nil {
		return err
	}
	var endpoints []string
	for rows.Next() {
		var eid, types string
		if err := rows.Scan(&eid, &types); err != nil {
			rows.Close()
			return err
		}
		if types == "" || standing.HasString(strings.Fields(types), typ) {
			endpoints = append(endpoints, eid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, eid := range endpoints {
		did := standing.NewID("whd", t.now)
		if _, err := t.exec("INSERT INTO webhook_deliveries (id, endpoint_id, message_id, state, created_at) VALUES (?, ?, ?, 'pending', ?)",
			did, eid, id, ts(t.now)); err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]string{"delivery_id": did})
		if err := t.enqueue(jobs.Job{Kind: JobDeliverWebhook, Payload: payload, MaxAttempts: webhookMaxAttempts}); err != nil {
			return err
		}
	}
	return nil
}

// restrictionData is the data of account.restricted, restriction.lifted and
// restriction.expired.
func restrictionData(r standing.Restriction) map[string]any {
	d := map[string]any{
		"account_id": r.AccountID, "restriction_id": r.ID, "reason_code": r.ReasonCode,
		"removes": r.Removes, "source": r.Source, "appealable": r.Appealable,
		"starts_at": r.StartsAt, "ends_at": r.EndsAt,
	}
	if r.RuleID != "" {
		d["rule_id"] = r.RuleID
	}
	if r.OrderID != "" {
		d["order_id"] = r.OrderID
	}
	if r.EndedAt != nil {
		d["ended_at"] = r.EndedAt
		d["state"] = r.State
	}
	return d
}

const endpointColumns = `id, url, description, event_types, enabled, disabled_reason, previous_expires_at, created_at, updated_at`

func scanEndpoint(row interface{ Scan(...any) error }) (standing.WebhookEndpoint, error) {
	var e standing.WebhookEndpoint
	var types string
	var enabled int
	var prev sql.NullInt64
	var created, updated int64
	if err := row.Scan(&e.ID, &e.URL, &e.Description, &types, &enabled, &e.DisabledReason, &prev, &created, &updated); err != nil {
		return e, err
	}
	e.EventTypes = strings.Fields(types)
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	e.Enabled, e.PreviousSecretExpiresAt = enabled != 0, fromNullTS(prev)
	e.CreatedAt, e.UpdatedAt = fromTS(created), fromTS(updated)
	return e, nil
}

// CreateWebhookEndpoint stores an endpoint; see standing.WebhookStore.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, n standing.NewWebhookEndpoint, secret string) (standing.WebhookEndpoint, error) {
	var out standing.WebhookEndpoint
	err := s.write(ctx, func(t *tx) error {
		out = standing.WebhookEndpoint{ID: standing.NewID("whe", t.now), URL: n.URL, Description: n.Description,
			EventTypes: append([]string{}, n.EventTypes...), Enabled: true, Secret: secret, CreatedAt: t.now, UpdatedAt: t.now}
		_, err := t.exec(`INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret, created_at, updated_at)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?)`, out.ID, out.URL, out.Description, strings.Join(out.EventTypes, " "), secret, ts(t.now), ts(t.now))
		return err
	})
	return out, err
}

// WebhookEndpoints lists the endpoints, oldest first.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]standing.WebhookEndpoint, error) {
	rows, err := s.query(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints ORDER BY created_at, id")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.WebhookEndpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

// WebhookEndpoint returns one endpoint; ENOTFOUND if none.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (standing.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.queryRow(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return e, standing.Errorf(standing.ENOTFOUND, "no webhook endpoint %q", id)
	}
	return e, translate(err)
}

func (t *tx) endpoint(id string) (standing.WebhookEndpoint, error) {
	e, err := scanEndpoint(t.queryRow("SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return e, standing.Errorf(standing.ENOTFOUND, "no webhook endpoint %q", id)
	}
	return e, err
}

// UpdateWebhookEndpoint applies a patch; see standing.WebhookStore.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id string, p standing.WebhookEndpointPatch) (standing.WebhookEndpoint, error) {
	var out standing.WebhookEndpoint
	err := s.write(ctx, func(t *tx) error {
		e, err := t.endpoint(id)
		if err != nil {
			return err
		}
		if p.URL != nil {
			e.URL = *p.URL
		}
		if p.Description != nil {
			e.Description = *p.Description
		}
		if p.EventTypes != nil {
			e.EventTypes = append([]string{}, (*p.EventTypes)...)
		}
		if p.Enabled != nil && *p.Enabled != e.Enabled {
			e.Enabled, e.DisabledReason = *p.Enabled, ""
			if !e.Enabled {
				e.DisabledReason = "disabled by an operator"
				if err := t.cancelDeliveries(e.ID); err != nil {
					return err
				}
			}
		}
		e.UpdatedAt = t.now
		_, err = t.exec("UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?, disabled_reason = ?, updated_at = ? WHERE id = ?",
			e.URL, e.Description, strings.Join(e.EventTypes, " "), boolInt(e.Enabled), e.DisabledReason, ts(t.now), e.ID)
		out = e
		return err
	})
	return out, err
}

// cancelDeliveries cancels an endpoint's pending deliveries (their jobs find them
// cancelled and stop).
func (t *tx) cancelDeliveries(endpointID string) error {
	_, err := t.exec("UPDATE webhook_deliveries SET state = 'cancelled' WHERE endpoint_id = ? AND state = 'pending'", endpointID)
	return err
}

// RotateWebhookSecret makes secret the endpoint's secret; see standing.WebhookStore.
func (s *Store) RotateWebhookSecret(ctx context.Context, id, secret string, overlap time.Duration) (standing.WebhookEndpoint, error) {
	var out standing.WebhookEndpoint
	err := s.write(ctx, func(t *tx) error {
		e, err := t.endpoint(id)
		if err != nil {
			return err
		}
		var current string
		if err := t.queryRow("SELECT secret FROM webhook_endpoints WHERE id = ?", id).Scan(&current); err != nil {
			return err
		}
		expires := t.now.Add(overlap)
		prev, prevExpires := current, nullTS(&expires)
		if overlap <= 0 {
			prev, prevExpires = "", sql.NullInt64{}
		}
		if _, err := t.exec("UPDATE webhook_endpoints SET secret = ?, previous_secret = ?, previous_expires_at = ?, updated_at = ? WHERE id = ?",
			secret, prev, prevExpires, ts(t.now), id); err != nil {
			return err
		}
		e.Secret, e.PreviousSecretExpiresAt, e.UpdatedAt = secret, fromNullTS(prevExpires), t.now
		out = e
		return nil
	})
	return out, err
}

const deliveryColumns = `d.id, d.endpoint_id, d.message_id, m.type, d.state, d.attempts, d.last_status, d.last_error,
	d.last_attempt_at, d.delivered_at, d.created_at`

func scanDelivery(row interface{ Scan(...any) error }) (standing.WebhookDelivery, error) {
	var d standing.WebhookDelivery
	var last, delivered sql.NullInt64
	var created int64
	err := row.Scan(&d.ID, &d.EndpointID, &d.MessageID, &d.EventType, &d.State, &d.Attempts, &d.LastStatus, &d.LastError,
		&last, &delivered, &created)
	d.LastAttemptAt, d.DeliveredAt, d.CreatedAt = fromNullTS(last), fromNullTS(delivered), fromTS(created)
	return d, err
}

// WebhookDeliveries lists an endpoint's deliveries, newest first; see standing.WebhookStore.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID, state string, limit int) ([]standing.WebhookDelivery, error) {
	if _, err := s.WebhookEndpoint(ctx, endpointID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := "SELECT " + deliveryColumns + " FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id WHERE d.endpoint_id = ?"
	args := []any{endpointID}
	if state != "" {
		q += " AND d.state = ?"
		args = append(args, state)
	}
	rows, err := s.query(ctx, q+" ORDER BY d.created_at DESC, d.id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, d)
	}
	return out, translate(rows.Err())
}

// WebhookSend is what it takes to send one delivery.
type WebhookSend struct {
	Delivery standing.WebhookDelivery
	URL      string
	// Secrets are the endpoint's current secret and, during a rotation, the previous one.
	Secrets []string
	Body    []byte
	// Skip is set when the delivery needs no attempt: delivered, cancelled or failed
	// already, or its endpoint is disabled.
	Skip bool
}

// WebhookToSend reads a delivery with its endpoint and message; ENOTFOUND if it is gone.
func (s *Store) WebhookToSend(ctx context.Context, deliveryID string) (WebhookSend, error) {
	var w WebhookSend
	var enabled int
	var secret, prev string
	var prevExpires sql.NullInt64
	var body string
	row := s.queryRow(ctx, "SELECT "+deliveryColumns+`, e.url, e.enabled, e.secret, e.previous_secret, e.previous_expires_at, m.payload
		FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE d.id = ?`, deliveryID)
	var last, delivered sql.NullInt64
	var created int64
	d := &w.Delivery
	err := row.Scan(&d.ID, &d.EndpointID, &d.MessageID, &d.EventType, &d.State, &d.Attempts, &d.LastStatus, &d.LastError,
		&last, &delivered, &created, &w.URL, &enabled, &secret, &prev, &prevExpires, &body)
	if err == sql.ErrNoRows {
		return w, standing.Errorf(standing.ENOTFOUND, "no webhook delivery %q", deliveryID)
	} else if err != nil {
		return w, translate(err)
	}
	d.LastAttemptAt, d.DeliveredAt, d.CreatedAt = fromNullTS(last), fromNullTS(delivered), fromTS(created)
	w.Body, w.Secrets = []byte(body), []string{secret}
	if prev != "" && prevExpires.Valid && fromTS(prevExpires.Int64).After(s.clock.Now()) {
		w.Secrets = append(w.Secrets, prev)
	}
	w.Skip = d.State != standing.DeliveryPending || enabled == 0
	return w, nil
}

// WebhookAttempt records the outcome of one delivery attempt: delivered (err nil), failed
// for good (final: the endpoint answered 410 Gone, which also disables it, or retries ran
// out), or still pending for the next retry.
func (s *Store) WebhookAttempt(ctx context.Context, deliveryID string, status int, sendErr error, gone, final bool) error {
	return s.write(ctx, func(t *tx) error {
		switch {
		case sendErr == nil:
			_, err := t.exec(`UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = '',
				last_attempt_at = ?, delivered_at = ? WHERE id = ? AND state = 'pending'`, status, ts(t.now), ts(t.now), deliveryID)
			return err
		case gone || final:
			if _, err := t.exec(`UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, last_status = ?, last_error = ?,
				last_attempt_at = ? WHERE id = ? AND state = 'pending'`, status, truncate(sendErr.Error(), 1000), ts(t.now), deliveryID); err != nil {
				return err
			}
			if !gone {
				return nil
			}
			var endpointID string
			if err := t.queryRow("SELECT endpoint_id FROM webhook_deliveries WHERE id = ?", deliveryID).Scan(&endpointID); err != nil {
				return err
			}
			if _, err := t.exec("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?",
				"the endpoint answered 410 Gone at "+standing.FormatTime(t.now), ts(t.now), endpointID); err != nil {
				return err
			}
			return t.cancelDeliveries(endpointID)
		default:
			_, err := t.exec(`UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, last_attempt_at = ?
				WHERE id = ? AND state = 'pending'`, status, truncate(sendErr.Error(), 1000), ts(t.now), deliveryID)
			return err
		}
	})
}

// WebhookMessages returns the newest outbox messages, for tests and the operator.
func (s *Store) WebhookMessages(ctx context.Context, accountID string, limit int) ([]standing.WebhookMessage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.query(ctx, "SELECT id, type, account_id, payload, created_at FROM webhook_messages WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", accountID, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.WebhookMessage{}
	for rows.Next() {
		var m standing.WebhookMessage
		var payload string
		var created int64
		if err := rows.Scan(&m.ID, &m.Type, &m.AccountID, &payload, &created); err != nil {
			return nil, translate(err)
		}
		m.Payload, m.CreatedAt = json.RawMessage(payload), fromTS(created)
		out = append(out, m)
	}
	return out, translate(rows.Err())
}

// SweepWebhooks deletes messages created before the time, with their deliveries, once no
// delivery of them is pending.
func (s *Store) SweepWebhooks(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(t *tx) error {
		if _, err := t.exec(`DELETE FROM webhook_deliveries WHERE message_id IN (SELECT id FROM webhook_messages WHERE created_at < ?)
			AND message_id NOT IN (SELECT message_id FROM webhook_deliveries WHERE state = 'pending')`, ts(before)); err != nil {
			return err
		}
		res, err := t.exec(`DELETE FROM webhook_messages WHERE created_at < ? AND id NOT IN (SELECT message_id FROM webhook_deliveries)`, ts(before))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}
