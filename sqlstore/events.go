package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"standing"
)

// recordEvent stores an event in the transaction. An event whose id is already stored is
// left as it was, and recordEvent reports false.
func (t *tx) recordEvent(e standing.Event) (bool, error) {
	if e.ID == "" {
		e.ID = standing.NewID("evt", t.now)
	}
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = t.now
	}
	if e.Time.IsZero() {
		e.Time = t.now
	}
	attrs := string(e.Attributes)
	if attrs == "" {
		attrs = "{}"
	}
	res, err := t.exec(`INSERT INTO events (id, account_id, type, occurred_at, received_at, ip, device_id, attributes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.ID, nullString(e.AccountID), e.Type, ts(e.Time), ts(e.ReceivedAt), e.IP, e.DeviceID, attrs)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecordEvent stores one event on its own (a sign-in failure, say).
func (s *Store) RecordEvent(ctx context.Context, e standing.Event) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.recordEvent(e)
		return err
	})
}

// CountEvents counts events of a type since a time, for an account (accountID not empty)
// or from an IP (ip not empty).
func (s *Store) CountEvents(ctx context.Context, accountID, ip, typ string, since time.Time) (int, time.Time, error) {
	var n int
	var last *int64
	var err error
	if accountID != "" {
		err = s.queryRow(ctx, "SELECT COUNT(*), MAX(occurred_at) FROM events WHERE account_id = ? AND type = ? AND occurred_at > ?", accountID, typ, ts(since)).Scan(&n, &last)
	} else {
		err = s.queryRow(ctx, "SELECT COUNT(*), MAX(occurred_at) FROM events WHERE ip = ? AND type = ? AND occurred_at > ?", ip, typ, ts(since)).Scan(&n, &last)
	}
	var lastAt time.Time
	if last != nil {
		lastAt = fromTS(*last)
	}
	return n, lastAt, translate(err)
}

func attrs(v map[string]any) json.RawMessage {
	if len(v) == 0 {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}
