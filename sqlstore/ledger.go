package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"standing"
)

// claimIdempotency starts an idempotent write by claiming the caller's key in the
// transaction. A key used before makes it decode the first answer into out and report
// true (the caller returns that answer and changes nothing), or fail with ECONFLICT when
// the request differs from the first one. On PostgreSQL a concurrent request with the same
// key waits at the insert until the first one commits, then sees its answer.
func (t *tx) claimIdempotency(idem *standing.Idempotency, out any) (bool, error) {
	if idem == nil || idem.Key == "" {
		return false, nil
	}
	res, err := t.exec(`INSERT INTO idempotency_keys (caller, idem_key, route, fingerprint, response, created_at)
		VALUES (?, ?, ?, ?, '', ?) ON CONFLICT DO NOTHING`, idem.Caller, idem.Key, idem.Route, idem.Fingerprint, ts(t.now))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return false, nil
	}
	var route, fingerprint, response string
	var created int64
	if err := t.queryRow("SELECT route, fingerprint, response, created_at FROM idempotency_keys WHERE caller = ? AND idem_key = ?",
		idem.Caller, idem.Key).Scan(&route, &fingerprint, &response, &created); err != nil {
		return false, err
	}
	if route != idem.Route || fingerprint != idem.Fingerprint {
		return false, standing.FieldErrorf(standing.ECONFLICT, "Idempotency-Key",
			"the Idempotency-Key %q was used at %s for a different request (%s with another body); send a new key for a new request",
			idem.Key, standing.FormatTime(fromTS(created)), route)
	}
	if response == "" {
		return false, standing.FieldErrorf(standing.ECONFLICT, "Idempotency-Key", "a request with the Idempotency-Key %q is still being processed; retry in a moment", idem.Key)
	}
	return true, json.Unmarshal([]byte(response), out)
}

// rememberIdempotency stores the answer of an idempotent write for its replays.
func (t *tx) rememberIdempotency(idem *standing.Idempotency, v any) error {
	if idem == nil || idem.Key == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = t.exec("UPDATE idempotency_keys SET response = ? WHERE caller = ? AND idem_key = ?", string(b), idem.Caller, idem.Key)
	return err
}

// SweepIdempotencyKeys deletes keys older than before: a retry that late is a new request.
func (s *Store) SweepIdempotencyKeys(ctx context.Context, before int64) (int, error) {
	return s.sweep(ctx, "DELETE FROM idempotency_keys WHERE created_at < ?", before)
}

// sweep runs a DELETE once and returns the rows it removed.
func (s *Store) sweep(ctx context.Context, query string, args ...any) (int, error) {
	var n int64
	err := s.write(ctx, func(t *tx) error {
		res, err := t.exec(query, args...)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

const orderColumns = `id, COALESCE(external_id, ''), buyer_id, seller_id, amount, currency, status, recipient_name,
	COALESCE(tracking_number, ''), closed_reason_code, closed_reason, closed_restriction_id, closed_rule_id,
	placed_at, ship_by, paid_at, shipped_at, completed_at, cancelled_at, cancelled_by, closed_at, created_at, updated_at`

func scanOrder(row interface{ Scan(...any) error }) (standing.Order, error) {
	var o standing.Order
	var placed, created, updated int64
	var shipBy, paid, shipped, completed, cancelled, closed sql.NullInt64
	err := row.Scan(&o.ID, &o.ExternalID, &o.BuyerID, &o.SellerID, &o.Amount, &o.Currency, &o.Status, &o.RecipientName,
		&o.TrackingNumber, &o.ClosedReasonCode, &o.ClosedReason, &o.ClosedRestrictionID, &o.ClosedRuleID,
		&placed, &shipBy, &paid, &shipped, &completed, &cancelled, &o.CancelledBy, &closed, &created, &updated)
	if err != nil {
		return o, err
	}
	o.PlacedAt, o.CreatedAt, o.UpdatedAt = fromTS(placed), fromTS(created), fromTS(updated)
	o.ShipBy, o.PaidAt, o.ShippedAt = fromNullTS(shipBy), fromNullTS(paid), fromNullTS(shipped)
	o.CompletedAt, o.CancelledAt, o.ClosedAt = fromNullTS(completed), fromNullTS(cancelled), fromNullTS(closed)
	return o, nil
}

// ledgerAccount reads an account a ledger write names and checks its role.
func (t *tx) ledgerAccount(field, id string, role standing.Role) (standing.Account, error) {
	a, err := scanAccount(t.queryRow("SELECT "+accountColumns+" FROM accounts WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return a, standing.FieldErrorf(standing.ENOTFOUND, field, "no account %q", id)
	} else if err != nil {
		return a, err
	}
	if a.Lifecycle == standing.LifecycleErased {
		return a, standing.FieldErrorf(standing.EGONE, field, "account %s was erased", id)
	}
	if role != "" && a.Role != role {
		return a, standing.FieldErrorf(standing.EINVALID, field, "%s must be a %s account; %s is a %s", field, role, id, a.Role)
	}
	return a, nil
}

// CreateOrder records an order; see standing.LedgerWriter.
func (s *Store) CreateOrder(ctx context.Context, n standing.NewOrder, idem *standing.Idempotency) (standing.Order, bool, error) {
	var out standing.Order
	var replayed bool
	err := s.write(ctx, func(t *tx) error {
		var err error
		if replayed, err = t.claimIdempotency(idem, &out); err != nil || replayed {
			return err
		}
		if _, err := t.ledgerAccount("buyer_id", n.BuyerID, standing.RoleBuyer); err != nil {
			return err
		}
		if _, err := t.ledgerAccount("seller_id", n.SellerID, standing.RoleSeller); err != nil {
			return err
		}
		if err := t.checkOrderUnique(n.ExternalID, n.TrackingNumber, ""); err != nil {
			return err
		}
		o := standing.Order{
			ID: standing.NewID("ord", t.now), ExternalID: n.ExternalID, BuyerID: n.BuyerID, SellerID: n.SellerID,
			Amount: n.Amount, Currency: n.Currency, Status: n.Status, RecipientName: n.RecipientName,
			TrackingNumber: n.TrackingNumber, PlacedAt: n.PlacedAt, ShipBy: n.ShipBy, CreatedAt: t.now, UpdatedAt: t.now,
		}
		if o.Status == standing.OrderPaid {
			o.PaidAt = &o.PlacedAt
		}
		_, err = t.exec(`INSERT INTO orders (id, external_id, buyer_id, seller_id, amount, currency, status, recipient_name,
			tracking_number, placed_at, ship_by, paid_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, nullString(o.ExternalID), o.BuyerID, o.SellerID, o.Amount, o.Currency, o.Status, o.RecipientName,
			nullString(o.TrackingNumber), ts(o.PlacedAt), nullTS(o.ShipBy), nullTS(o.PaidAt), ts(o.CreatedAt), ts(o.UpdatedAt))
		if isUnique(err) {
			return standing.Errorf(standing.ECONFLICT, "another order took the external_id or tracking_number at the same moment")
		} else if err != nil {
			return err
		}
		ir, err := t.addIdentity(o.BuyerID, n.Identity)
		if err != nil {
			return err
		}
		t.s.riskChanged(append(ir.linked, o.BuyerID, o.SellerID)...)
		out = o
		return t.rememberIdempotency(idem, o)
	})
	return out, replayed, err
}

// checkOrderUnique refuses an external id or tracking number another order has, with an
// error that names the field.
func (t *tx) checkOrderUnique(externalID, tracking, self string) error {
	var other string
	if externalID != "" {
		err := t.queryRow("SELECT id FROM orders WHERE external_id = ?", externalID).Scan(&other)
		if err == nil && other != self {
			return standing.FieldErrorf(standing.ECONFLICT, "external_id", "order %s already has the external_id %q", other, externalID)
		} else if err != nil && err != sql.ErrNoRows {
			return err
		}
	}
	if tracking != "" {
		err := t.queryRow("SELECT id FROM orders WHERE tracking_number = ?", tracking).Scan(&other)
		if err == nil && other != self {
			return standing.FieldErrorf(standing.ECONFLICT, "tracking_number", "order %s already has the tracking number %s", other, tracking)
		} else if err != nil && err != sql.ErrNoRows {
			return err
		}
	}
	return nil
}

// orderForUpdate reads an order by id or external id inside a write transaction, locking
// its row on PostgreSQL.
func (t *tx) orderForUpdate(ref string) (standing.Order, error) {
	lock := ""
	if t.s.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	o, err := scanOrder(t.queryRow("SELECT "+orderColumns+" FROM orders WHERE id = ?"+lock, ref))
	if err == sql.ErrNoRows {
		o, err = scanOrder(t.queryRow("SELECT "+orderColumns+" FROM orders WHERE external_id = ?"+lock, ref))
	}
	if err == sql.ErrNoRows {
		return o, standing.Errorf(standing.ENOTFOUND, "no order %q", ref)
	}
	return o, err
}

// UpdateOrder applies a patch; see standing.LedgerWriter.
func (s *Store) UpdateOrder(ctx context.Context, id string, p standing.OrderPatch, idem *standing.Idempotency) (standing.Order, bool, error) {
	var out standing.Order
	var replayed bool
	err := s.write(ctx, func(t *tx) error {
		var err error
		if replayed, err = t.claimIdempotency(idem, &out); err != nil || replayed {
			return err
		}
		o, err := t.orderForUpdate(id)
		if err != nil {
			return err
		}
		if o.Status == standing.OrderClosedByRisk {
			return standing.Errorf(standing.ECONFLICT, "order %s was closed by Standing's risk checks (%s); it cannot change", o.ID, o.ClosedReasonCode)
		}
		if p.Status != nil && *p.Status != o.Status {
			if err := o.Status.Transition(*p.Status); err != nil {
				return err
			}
			at := p.At
			switch *p.Status {
			case standing.OrderPaid:
				o.PaidAt = &at
			case standing.OrderShipped:
				o.ShippedAt = &at
			case standing.OrderCompleted:
				o.CompletedAt = &at
			case standing.OrderCancelled:
				o.CancelledAt, o.CancelledBy = &at, p.CancelledBy
				if o.CancelledBy == "" {
					o.CancelledBy = standing.CancelledByMarketplace
				}
			}
			o.Status = *p.Status
		}
		if p.TrackingNumber != nil && *p.TrackingNumber != o.TrackingNumber {
			if err := t.checkOrderUnique("", *p.TrackingNumber, o.ID); err != nil {
				return err
			}
			o.TrackingNumber = *p.TrackingNumber
		}
		if p.RecipientName != nil && *p.RecipientName != o.RecipientName {
			if !o.Status.Active() || o.Status == standing.OrderShipped {
				return standing.FieldErrorf(standing.ECONFLICT, "recipient_name", "the recipient of a %s order cannot change", o.Status)
			}
			o.RecipientName = *p.RecipientName
		}
		if p.ShipBy != nil {
			sb := p.ShipBy.UTC()
			o.ShipBy = &sb
		}
		o.UpdatedAt = t.now
		t.s.riskChanged(o.BuyerID, o.SellerID)
		_, err = t.exec(`UPDATE orders SET status = ?, recipient_name = ?, tracking_number = ?, ship_by = ?, paid_at = ?,
			shipped_at = ?, completed_at = ?, cancelled_at = ?, cancelled_by = ?, updated_at = ? WHERE id = ?`,
			o.Status, o.RecipientName, nullString(o.TrackingNumber), nullTS(o.ShipBy), nullTS(o.PaidAt), nullTS(o.ShippedAt),
			nullTS(o.CompletedAt), nullTS(o.CancelledAt), o.CancelledBy, ts(o.UpdatedAt), o.ID)
		if isUnique(err) {
			return standing.FieldErrorf(standing.ECONFLICT, "tracking_number", "another order took the tracking number %s at the same moment", o.TrackingNumber)
		} else if err != nil {
			return err
		}
		out = o
		return t.rememberIdempotency(idem, o)
	})
	return out, replayed, err
}

// Order returns an order by id or external id; ENOTFOUND if none.
func (s *Store) Order(ctx context.Context, ref string) (standing.Order, error) {
	o, err := scanOrder(s.queryRow(ctx, "SELECT "+orderColumns+" FROM orders WHERE id = ?", ref))
	if err == sql.ErrNoRows {
		o, err = scanOrder(s.queryRow(ctx, "SELECT "+orderColumns+" FROM orders WHERE external_id = ?", ref))
	}
	if err == sql.ErrNoRows {
		return o, standing.Errorf(standing.ENOTFOUND, "no order %q", ref)
	}
	return o, translate(err)
}

// OrderByTracking returns the order with the tracking number; ENOTFOUND if none.
func (s *Store) OrderByTracking(ctx context.Context, number string) (standing.Order, error) {
	n, err := standing.NormalizeTracking(number)
	if err != nil || n == "" {
		return standing.Order{}, standing.Errorf(standing.ENOTFOUND, "no order with that tracking number")
	}
	o, err := scanOrder(s.queryRow(ctx, "SELECT "+orderColumns+" FROM orders WHERE tracking_number = ?", n))
	if err == sql.ErrNoRows {
		return o, standing.Errorf(standing.ENOTFOUND, "no order with that tracking number")
	}
	return o, translate(err)
}

// Orders lists an account's orders as buyer or seller, newest first.
func (s *Store) Orders(ctx context.Context, accountID string, limit int) ([]standing.Order, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.query(ctx, "SELECT "+orderColumns+" FROM orders WHERE buyer_id = ? OR seller_id = ? ORDER BY placed_at DESC, id DESC LIMIT ?", accountID, accountID, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, o)
	}
	return out, translate(rows.Err())
}

const disputeColumns = `id, COALESCE(external_id, ''), order_id, buyer_id, seller_id, status, reason, outcome,
	opened_at, resolved_at, created_at, updated_at`

func scanDispute(row interface{ Scan(...any) error }) (standing.Dispute, error) {
	var d standing.Dispute
	var opened, created, updated int64
	var resolved sql.NullInt64
	err := row.Scan(&d.ID, &d.ExternalID, &d.OrderID, &d.BuyerID, &d.SellerID, &d.Status, &d.Reason, &d.Outcome,
		&opened, &resolved, &created, &updated)
	d.OpenedAt, d.CreatedAt, d.UpdatedAt, d.ResolvedAt = fromTS(opened), fromTS(created), fromTS(updated), fromNullTS(resolved)
	return d, err
}

// CreateDispute opens a dispute on an order; see standing.LedgerWriter.
func (s *Store) CreateDispute(ctx context.Context, n standing.NewDispute, idem *standing.Idempotency) (standing.Dispute, bool, error) {
	var out standing.Dispute
	var replayed bool
	err := s.write(ctx, func(t *tx) error {
		var err error
		if replayed, err = t.claimIdempotency(idem, &out); err != nil || replayed {
			return err
		}
		o, err := t.orderForUpdate(n.OrderID)
		if standing.ErrorCode(err) == standing.ENOTFOUND {
			return standing.FieldErrorf(standing.ENOTFOUND, "order_id", "no order %q", n.OrderID)
		} else if err != nil {
			return err
		}
		var other string
		if n.ExternalID != "" {
			err := t.queryRow("SELECT id FROM disputes WHERE external_id = ?", n.ExternalID).Scan(&other)
			if err == nil {
				return standing.FieldErrorf(standing.ECONFLICT, "external_id", "dispute %s already has the external_id %q", other, n.ExternalID)
			} else if err != sql.ErrNoRows {
				return err
			}
		}
		err = t.queryRow("SELECT id FROM disputes WHERE order_id = ? AND status = 'open'", o.ID).Scan(&other)
		if err == nil {
			return standing.FieldErrorf(standing.ECONFLICT, "order_id", "order %s already has an open dispute, %s", o.ID, other)
		} else if err != sql.ErrNoRows {
			return err
		}
		t.s.riskChanged(o.BuyerID, o.SellerID)
		d := standing.Dispute{ID: standing.NewID("dsp", t.now), ExternalID: n.ExternalID, OrderID: o.ID, BuyerID: o.BuyerID,
			SellerID: o.SellerID, Status: standing.DisputeOpen, Reason: n.Reason, OpenedAt: n.OpenedAt, CreatedAt: t.now, UpdatedAt: t.now}
		_, err = t.exec(`INSERT INTO disputes (id, external_id, order_id, buyer_id, seller_id, status, reason, opened_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, nullString(d.ExternalID), d.OrderID, d.BuyerID, d.SellerID, d.Status,
			d.Reason, ts(d.OpenedAt), ts(d.CreatedAt), ts(d.UpdatedAt))
		if isUnique(err) {
			return standing.FieldErrorf(standing.ECONFLICT, "order_id", "another dispute on order %s was opened at the same moment", o.ID)
		} else if err != nil {
			return err
		}
		out = d
		return t.rememberIdempotency(idem, d)
	})
	return out, replayed, err
}

// UpdateDispute resolves a dispute; see standing.LedgerWriter.
func (s *Store) UpdateDispute(ctx context.Context, id string, p standing.DisputePatch, idem *standing.Idempotency) (standing.Dispute, bool, error) {
	var out standing.Dispute
	var replayed bool
	err := s.write(ctx, func(t *tx) error {
		var err error
		if replayed, err = t.claimIdempotency(idem, &out); err != nil || replayed {
			return err
		}
		d, err := scanDispute(t.queryRow("SELECT "+disputeColumns+" FROM disputes WHERE id = ?", id))
		if err == sql.ErrNoRows {
			d, err = scanDispute(t.queryRow("SELECT "+disputeColumns+" FROM disputes WHERE external_id = ?", id))
		}
		if err == sql.ErrNoRows {
			return standing.Errorf(standing.ENOTFOUND, "no dispute %q", id)
		} else if err != nil {
			return err
		}
		if d.Status == standing.DisputeResolved {
			return standing.FieldErrorf(standing.ECONFLICT, "status", "dispute %s was resolved already, at %s", d.ID, standing.FormatTime(*d.ResolvedAt))
		}
		t.s.riskChanged(d.BuyerID, d.SellerID)
		at := p.At
		d.Status, d.Outcome, d.ResolvedAt, d.UpdatedAt = standing.DisputeResolved, p.Outcome, &at, t.now
		res, err := t.exec("UPDATE disputes SET status = ?, outcome = ?, resolved_at = ?, updated_at = ? WHERE id = ? AND status = 'open'",
			d.Status, d.Outcome, ts(at), ts(t.now), d.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return standing.FieldErrorf(standing.ECONFLICT, "status", "dispute %s was resolved at the same moment", d.ID)
		}
		out = d
		return t.rememberIdempotency(idem, d)
	})
	return out, replayed, err
}

// Dispute returns a dispute by id or external id; ENOTFOUND if none.
func (s *Store) Dispute(ctx context.Context, ref string) (standing.Dispute, error) {
	d, err := scanDispute(s.queryRow(ctx, "SELECT "+disputeColumns+" FROM disputes WHERE id = ?", ref))
	if err == sql.ErrNoRows {
		d, err = scanDispute(s.queryRow(ctx, "SELECT "+disputeColumns+" FROM disputes WHERE external_id = ?", ref))
	}
	if err == sql.ErrNoRows {
		return d, standing.Errorf(standing.ENOTFOUND, "no dispute %q", ref)
	}
	return d, translate(err)
}

// Disputes lists an account's disputes as buyer or seller, newest first.
func (s *Store) Disputes(ctx context.Context, accountID string, limit int) ([]standing.Dispute, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.query(ctx, "SELECT "+disputeColumns+" FROM disputes WHERE buyer_id = ? OR seller_id = ? ORDER BY opened_at DESC, id DESC LIMIT ?", accountID, accountID, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Dispute{}
	for rows.Next() {
		d, err := scanDispute(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, d)
	}
	return out, translate(rows.Err())
}

// SetWallet sets an account's balance in a currency; see standing.LedgerWriter.
func (s *Store) SetWallet(ctx context.Context, accountID string, u standing.WalletUpdate, idem *standing.Idempotency) (standing.Wallet, bool, error) {
	var out standing.Wallet
	var replayed bool
	err := s.write(ctx, func(t *tx) error {
		var err error
		if replayed, err = t.claimIdempotency(idem, &out); err != nil || replayed {
			return err
		}
		if _, err := t.ledgerAccount("account_id", accountID, ""); err != nil {
			if standing.ErrorCode(err) == standing.ENOTFOUND {
				return standing.Errorf(standing.ENOTFOUND, "no account %q", accountID)
			}
			return err
		}
		w := standing.Wallet{AccountID: accountID, Currency: u.Currency, Balance: *u.Balance, UpdatedAt: t.now}
		if _, err := t.exec(`INSERT INTO wallets (account_id, currency, balance, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, currency) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at`,
			w.AccountID, w.Currency, w.Balance, ts(w.UpdatedAt)); err != nil {
			return err
		}
		out = w
		return t.rememberIdempotency(idem, w)
	})
	return out, replayed, err
}

// Wallets returns an account's balances, by currency.
func (s *Store) Wallets(ctx context.Context, accountID string) ([]standing.Wallet, error) {
	rows, err := s.query(ctx, "SELECT account_id, currency, balance, updated_at FROM wallets WHERE account_id = ? ORDER BY currency", accountID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Wallet{}
	for rows.Next() {
		var w standing.Wallet
		var updated int64
		if err := rows.Scan(&w.AccountID, &w.Currency, &w.Balance, &updated); err != nil {
			return nil, translate(err)
		}
		w.UpdatedAt = fromTS(updated)
		out = append(out, w)
	}
	return out, translate(rows.Err())
}
