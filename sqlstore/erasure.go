package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"standing"
)

const erasureColumns = `id, account_id, state, reason, requested_by, override_note, requested_at, scheduled_for,
	cancelled_at, executed_at, finished_at, forfeited, certificate`

func scanErasure(row interface{ Scan(...any) error }) (standing.Erasure, error) {
	var e standing.Erasure
	var requested, scheduled int64
	var cancelled, executed, finished sql.NullInt64
	var forfeited, cert string
	err := row.Scan(&e.ID, &e.AccountID, &e.State, &e.Reason, &e.RequestedBy, &e.Override, &requested, &scheduled,
		&cancelled, &executed, &finished, &forfeited, &cert)
	if err != nil {
		return e, err
	}
	e.RequestedAt, e.ScheduledFor = fromTS(requested), fromTS(scheduled)
	e.CancelledAt, e.ExecutedAt, e.FinishedAt = fromNullTS(cancelled), fromNullTS(executed), fromNullTS(finished)
	if forfeited != "" {
		if err := json.Unmarshal([]byte(forfeited), &e.Forfeited); err != nil {
			return e, fmt.Errorf("erasure %s: forfeited balances: %w", e.ID, err)
		}
	}
	if cert != "" {
		e.Certificate = &standing.Certificate{}
		if err := json.Unmarshal([]byte(cert), e.Certificate); err != nil {
			return e, fmt.Errorf("erasure %s: certificate: %w", e.ID, err)
		}
	}
	return e, nil
}

// Erasure returns one erasure; ENOTFOUND if none.
func (s *Store) Erasure(ctx context.Context, id string) (standing.Erasure, error) {
	e, err := scanErasure(s.queryRow(ctx, "SELECT "+erasureColumns+" FROM erasures WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return e, standing.Errorf(standing.ENOTFOUND, "no erasure %q", id)
	}
	return e, translate(err)
}

// LatestErasure returns the account's newest erasure; ENOTFOUND if it has none.
func (s *Store) LatestErasure(ctx context.Context, accountID string) (standing.Erasure, error) {
	e, err := scanErasure(s.queryRow(ctx, "SELECT "+erasureColumns+" FROM erasures WHERE account_id = ? ORDER BY requested_at DESC, id DESC LIMIT 1", accountID))
	if err == sql.ErrNoRows {
		return e, standing.Errorf(standing.ENOTFOUND, "the account has no deletion request")
	}
	return e, translate(err)
}

// Balances returns the account's wallet balances that are not zero.
func (s *Store) Balances(ctx context.Context, accountID string) ([]standing.Money, error) {
	rows, err := s.query(ctx, "SELECT currency, balance FROM wallets WHERE account_id = ? AND balance <> 0 ORDER BY currency", accountID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []standing.Money
	for rows.Next() {
		var m standing.Money
		if err := rows.Scan(&m.Currency, &m.Amount); err != nil {
			return nil, translate(err)
		}
		out = append(out, m)
	}
	return out, translate(rows.Err())
}

// OpenObligations counts the account's orders in a blocking state (as buyer or seller)
// and its open disputes.
func (s *Store) OpenObligations(ctx context.Context, accountID string, blocking []string) (orders, disputes int, err error) {
	for _, st := range blocking {
		var n int
		if err := s.queryRow(ctx, "SELECT COUNT(*) FROM orders WHERE (buyer_id = ? OR seller_id = ?) AND status = ?", accountID, accountID, st).Scan(&n); err != nil {
			return 0, 0, translate(err)
		}
		orders += n
	}
	err = s.queryRow(ctx, "SELECT COUNT(*) FROM disputes WHERE (buyer_id = ? OR seller_id = ?) AND status = 'open'", accountID, accountID).Scan(&disputes)
	return orders, disputes, translate(err)
}

// RequestDeletion records a deletion request and, in the same transaction, ends every
// session, moves the account to closing, puts self_deleted on it (everything paused until
// the erasure), queues the confirmation mail and the webhook, and schedules the erasure.
// ECONFLICT when a request is already under way.
func (s *Store) RequestDeletion(ctx context.Context, req standing.DeletionRequest, forfeited []standing.Money, mail func(standing.Account, standing.Erasure) standing.Mail) (standing.Erasure, error) {
	var out standing.Erasure
	err := s.write(ctx, func(t *tx) error {
		a, err := t.accountForUpdate(req.AccountID)
		if err != nil {
			return err
		}
		if a.Lifecycle == standing.LifecycleErased {
			return standing.Errorf(standing.EGONE, "This account was already erased.")
		}
		if a.Lifecycle == standing.LifecycleClosing {
			return standing.Errorf(standing.ECONFLICT, "This account is already being deleted.")
		}
		p := t.s.policy()
		e := standing.Erasure{ID: standing.NewID("era", t.now), AccountID: a.ID, State: standing.ErasureScheduled, Reason: req.Reason,
			RequestedBy: req.RequestedBy, Override: req.Override, RequestedAt: t.now, ScheduledFor: t.now.Add(p.ErasureGrace.D()), Forfeited: forfeited}
		fj, _ := json.Marshal(forfeited)
		if _, err := t.exec(`INSERT INTO erasures (id, account_id, state, reason, requested_by, override_note, requested_at, scheduled_for, forfeited)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.AccountID, e.State, e.Reason, e.RequestedBy, e.Override, ts(e.RequestedAt), ts(e.ScheduledFor), string(fj)); err != nil {
			if isUnique(err) {
				return standing.Errorf(standing.ECONFLICT, "This account is already being deleted.")
			}
			return err
		}
		if err := t.revokeSessions(a.ID); err != nil {
			return err
		}
		if err := t.setLifecycle(&a, standing.LifecycleClosing, req.RequestedBy, "deletion requested", req.Override); err != nil {
			return err
		}
		st, err := t.standing(a.ID)
		if err != nil {
			return err
		}
		// No end time: the restriction lasts until a restore lifts it or the erasure makes
		// the account gone; the message names the erasure's time.
		if _, err := t.restrict(a, &st, standing.NewRestriction{ReasonCode: standing.ReasonSelfDeleted, Source: standing.SourceSystem,
			Actor: req.RequestedBy, Message: "You asked us to delete this account. Its personal data will be erased on " + standing.FormatTime(e.ScheduledFor) + "."}); err != nil {
			return err
		}
		if _, err := t.queueMail(mail(a, e)); err != nil {
			return err
		}
		if err := t.emit("account.erasure_scheduled", a.ID, map[string]any{"erasure_id": e.ID, "account_id": a.ID, "scheduled_for": e.ScheduledFor}); err != nil {
			return err
		}
		// No job: the erasure row itself is the durable record; the erasure sweep finds it
		// when the grace ends, also after a restart.
		out = e
		return nil
	})
	return out, err
}

// RestoreAccount cancels a deletion still in its grace period: the account returns to
// where it was, self_deleted is lifted and the erasure job cancelled. After the grace the
// erasure cannot be undone: EGONE.
func (s *Store) RestoreAccount(ctx context.Context, accountID, by string, mail func(standing.Account) standing.Mail) (standing.Erasure, error) {
	var out standing.Erasure
	err := s.write(ctx, func(t *tx) error {
		a, err := t.accountForUpdate(accountID)
		if err != nil {
			return err
		}
		e, err := scanErasure(t.queryRow("SELECT "+erasureColumns+" FROM erasures WHERE account_id = ? ORDER BY requested_at DESC, id DESC LIMIT 1", accountID))
		if err == sql.ErrNoRows {
			return standing.Errorf(standing.ENOTFOUND, "This account has no deletion request.")
		} else if err != nil {
			return err
		}
		switch {
		case e.State == standing.ErasureCancelled:
			return standing.Errorf(standing.ECONFLICT, "This account was already restored on %s.", standing.FormatTime(*e.CancelledAt))
		case e.State != standing.ErasureScheduled || !t.now.Before(e.ScheduledFor):
			return standing.Errorf(standing.ECONFLICT, "The account is gone for good: its grace period ended on %s and its data was erased. An erasure cannot be undone.", standing.FormatTime(e.ScheduledFor))
		}
		if _, err := t.exec("UPDATE erasures SET state = 'cancelled', cancelled_at = ? WHERE id = ?", ts(t.now), e.ID); err != nil {
			return err
		}
		next := standing.LifecycleActive
		if a.EmailVerifiedAt == nil {
			next = standing.LifecycleUnverified
		}
		if err := t.setLifecycle(&a, next, by, "deletion cancelled", ""); err != nil {
			return err
		}
		rows, err := t.query("SELECT "+restrictionColumns+" FROM restrictions WHERE account_id = ? AND state = 'active' AND reason_code = ?", a.ID, standing.ReasonSelfDeleted)
		if err != nil {
			return err
		}
		var open []standing.Restriction
		for rows.Next() {
			r, err := scanRestriction(rows)
			if err != nil {
				rows.Close()
				return err
			}
			open = append(open, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range open {
			if _, _, err := t.endActive(r, standing.RestrictionLifted, by, "deletion cancelled"); err != nil {
				return err
			}
		}
		if _, err := t.queueMail(mail(a)); err != nil {
			return err
		}
		if err := t.emit("account.erasure_cancelled", a.ID, map[string]any{"erasure_id": e.ID, "account_id": a.ID}); err != nil {
			return err
		}
		now := t.now
		e.State, e.CancelledAt = standing.ErasureCancelled, &now
		out = e
		return nil
	})
	return out, err
}

// ErasureStepDone reports whether a step of an erasure already committed, and its counts.
func (s *Store) ErasureStepDone(ctx context.Context, erasureID, step string) (map[string]int, bool, error) {
	var removed string
	err := s.queryRow(ctx, "SELECT removed FROM erasure_steps WHERE erasure_id = ? AND step = ?", erasureID, step).Scan(&removed)
	if err == sql.ErrNoRows {
		return nil, false, nil
	} else if err != nil {
		return nil, false, translate(err)
	}
	out := map[string]int{}
	if err := json.Unmarshal([]byte(removed), &out); err != nil {
		return nil, false, fmt.Errorf("erasure %s, step %s: recorded counts: %w", erasureID, step, err)
	}
	return out, true, nil
}

// RecordErasureSteps records, in one transaction, a step about to be done outside the
// database (evidence files) for several erasures — erasure id → counts — and marks them
// running: from here on they cannot be restored, and a rerun after a crash reads the
// recorded counts. A step already recorded keeps its first counts.
func (s *Store) RecordErasureSteps(ctx context.Context, step string, removed map[string]map[string]int) error {
	if len(removed) == 0 {
		return nil
	}
	return s.write(ctx, func(t *tx) error {
		for id, r := range removed {
			if err := t.recordStep(id, step, r); err != nil {
				return err
			}
			if _, err := t.exec("UPDATE erasures SET state = 'running', executed_at = COALESCE(executed_at, ?) WHERE id = ? AND state = 'scheduled'", ts(t.now), id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (t *tx) recordStep(erasureID, step string, removed map[string]int) error {
	b, _ := json.Marshal(removed)
	_, err := t.exec("INSERT INTO erasure_steps (erasure_id, step, removed, done_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
		erasureID, step, string(b), ts(t.now))
	return err
}

// DueErasures returns the ids of erasures whose grace period ended (or that a crash left
// running), oldest first.
func (s *Store) DueErasures(ctx context.Context, now time.Time, limit int) ([]standing.Erasure, error) {
	var out []standing.Erasure
	// Two queries, each on the (state, scheduled_for) index; an OR would scan the table.
	for _, q := range []struct {
		query string
		args  []any
	}{
		{`SELECT ` + erasureColumns + ` FROM erasures WHERE state = 'running' ORDER BY scheduled_for LIMIT ?`, []any{limit}},
		{`SELECT ` + erasureColumns + ` FROM erasures WHERE state = 'scheduled' AND scheduled_for <= ? ORDER BY scheduled_for LIMIT ?`, []any{ts(now), limit}},
	} {
		rows, err := s.query(ctx, q.query, q.args...)
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() && len(out) < limit {
			e, err := scanErasure(rows)
			if err != nil {
				rows.Close()
				return nil, translate(err)
			}
			out = append(out, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
	}
	return out, nil
}

// ErasureStep is one part of an erasure: the tables of one area, cleared for a whole batch
// of accounts with set-based statements (the batch's accounts sit in erasure_batch for the
// transaction), each statement returning the account of every row it touched so that the
// certificate gets exact counts per account.
type ErasureStep struct {
	Name  string // the step's key
	Store string // the store it clears, for the certificate
	stmts []eraseStmt
}

// eraseStmt is one statement of a step. Its query has one parameter, the batch id, and
// returns the account id of each row it changed; count names what it counts, or is empty
// for a statement whose rows the certificate does not list.
type eraseStmt struct {
	count, query string
}

const inBatch = "(SELECT account_id FROM erasure_batch WHERE batch_id = ?)"

// eraseEventsStmts deletes the batch's events. SQLite finds them through the rows eraseSteps
// listed in erasure_event_rows, from event_segments and the tail, and deletes the
// accounts' segments too, without counting them: they are the events' index, not more
// data.
func (s *Store) eraseEventsStmts() []eraseStmt {
	if s.dialect != SQLite {
		return []eraseStmt{{"events", "DELETE FROM events WHERE account_id IN " + inBatch + " RETURNING account_id"}}
	}
	const batch = "(SELECT account_id FROM erasure_batch WHERE batch_id = ?1)"
	return []eraseStmt{
		{"events", "DELETE FROM events WHERE rowid IN (SELECT x.row FROM erasure_event_rows x WHERE x.batch_id = ?1) AND account_id IN " + batch + " RETURNING account_id"},
		{"", "DELETE FROM event_segments WHERE account_id IN " + batch + " RETURNING account_id"},
	}
}

// ErasureSteps lists the database steps of an erasure, in order; the profile comes last.
func (s *Store) ErasureSteps() []ErasureStep {
	return []ErasureStep{
		{"sessions", "database: sessions and one-time tokens", []eraseStmt{
			{"sessions", "DELETE FROM sessions WHERE account_id IN " + inBatch + " RETURNING account_id"},
			{"tokens", "DELETE FROM tokens WHERE account_id IN " + inBatch + " RETURNING account_id"},
		}},
		{"mail", "database: mail", []eraseStmt{
			{"mails", "DELETE FROM mails WHERE account_id IN " + inBatch + " RETURNING account_id"},
			{"mails", `DELETE FROM mails WHERE to_addr IN (SELECT email FROM erasure_batch WHERE batch_id = ?) RETURNING to_addr`},
		}},
		{"events", "database: events (IPs, devices, attributes)", s.eraseEventsStmts()},
		{"appeals", "database: appeal statements, messages and evidence records", []eraseStmt{
			{"appeal_messages", `DELETE FROM appeal_messages WHERE appeal_id IN (SELECT id FROM appeals WHERE account_id IN ` + inBatch + `) RETURNING appeal_id`},
			{"appeal_votes_notes", `UPDATE appeal_votes SET note = '' WHERE appeal_id IN (SELECT id FROM appeals WHERE account_id IN ` + inBatch + `) RETURNING appeal_id`},
			{"evidence_records", "DELETE FROM evidence WHERE account_id IN " + inBatch + " RETURNING account_id"},
			{"appeal_statements", "UPDATE appeals SET statement = '', urgent_reason = '', decision_note = '' WHERE account_id IN " + inBatch + " RETURNING account_id"},
		}},
		{"deny_list", "database: deny list (keyed hashes of identity details)", []eraseStmt{
			{"deny_list_entries", `INSERT INTO identity_denylist (kind, value_hash, reason_code, created_at)
				SELECT i.kind, i.value_hash, b.deny_reason, b.at FROM identity_attributes i
				JOIN erasure_batch b ON b.account_id = i.account_id WHERE b.batch_id = ? AND b.deny_reason <> ''
				ON CONFLICT DO NOTHING RETURNING value_hash`},
		}},
		{"risk", "database: risk features, identity details and links, rule hits, reviews", []eraseStmt{
			{"features", "DELETE FROM account_risk WHERE account_id IN " + inBatch + " RETURNING account_id"},
			{"identity_attributes", "DELETE FROM identity_attributes WHERE account_id IN " + inBatch + " RETURNING account_id"},
			{"links", "DELETE FROM account_links WHERE account_id IN " + inBatch + " RETURNING account_id"},
			{"links", "DELETE FROM account_links WHERE other_id IN " + inBatch + " RETURNING other_id"},
			{"rule_hits", "DELETE FROM rule_hits WHERE account_id IN " + inBatch + " RETURNING account_id"},
			{"risk_reviews", "DELETE FROM risk_reviews WHERE account_id IN " + inBatch + " RETURNING account_id"},
		}},
		{"ledger", "database: orders, disputes, wallets (anonymised)", []eraseStmt{
			{"orders_anonymised", "UPDATE orders SET recipient_name = '' WHERE buyer_id IN " + inBatch + " RETURNING buyer_id"},
			{"orders_anonymised", "UPDATE orders SET recipient_name = '' WHERE seller_id IN " + inBatch + " RETURNING seller_id"},
			{"wallets", "DELETE FROM wallets WHERE account_id IN " + inBatch + " RETURNING account_id"},
		}},
		{"webhooks", "database: webhook payloads", []eraseStmt{
			{"webhook_deliveries", `DELETE FROM webhook_deliveries WHERE message_id IN (SELECT id FROM webhook_messages WHERE account_id IN ` + inBatch + `) RETURNING message_id`},
			{"webhook_messages", "DELETE FROM webhook_messages WHERE account_id IN " + inBatch + " RETURNING account_id"},
		}},
		{"sellers", "database: seller violations, notices, fines, fees (anonymised) and performance", []eraseStmt{
			{"seller_violations_anonymised", "UPDATE seller_violations SET case_id = '', note = '', evidence = '', withdraw_note = '', outcome = '{}' WHERE seller_id IN " + inBatch + " RETURNING seller_id"},
			{"seller_notices_anonymised", "UPDATE seller_notices SET text = '', payload = '{}' WHERE seller_id IN " + inBatch + " RETURNING seller_id"},
			{"seller_fines_anonymised", "UPDATE seller_fines SET case_id = '', reason = '' WHERE seller_id IN " + inBatch + " RETURNING seller_id"},
			{"seller_fees_anonymised", "UPDATE seller_fees SET description = '', payment_ref = '' WHERE seller_id IN " + inBatch + " RETURNING seller_id"},
			{"seller_perf_warnings", "DELETE FROM seller_perf_warnings WHERE seller_id IN " + inBatch + " RETURNING seller_id"},
			{"seller_perf_days", "DELETE FROM seller_perf_days WHERE seller_id IN " + inBatch + " RETURNING seller_id"},
		}},
		{"restrictions", "database: restriction notes", []eraseStmt{
			{"restriction_notes", "UPDATE restrictions SET note = '', end_note = '' WHERE account_id IN " + inBatch + " RETURNING account_id"},
		}},
		{"audit", "database: personal data in audit entries", []eraseStmt{
			{"audit_personal_data", "UPDATE audit_log SET personal = '', personal_salt = '' WHERE account_id IN " + inBatch +
				" AND (personal <> '' OR personal_salt <> '') RETURNING account_id"},
		}},
		{"account", "database: the account's profile", []eraseStmt{
			{"profile", `UPDATE accounts SET email = NULL, name = '', phone = '', country = '', password_hash = '', external_id = NULL
				WHERE id IN ` + inBatch + ` RETURNING id`},
		}},
	}
}

// owners maps what a statement returns that is not an account id (an appeal, a webhook
// message, an email, a deny-list hash) to the account it belongs to, for the counts.
func (t *tx) owners(batch string) (map[string]string, error) {
	out := map[string]string{}
	for _, q := range []string{
		"SELECT account_id, email FROM erasure_batch WHERE batch_id = ?",
		"SELECT a.account_id, a.id FROM appeals a WHERE a.account_id IN " + inBatch,
		"SELECT m.account_id, m.id FROM webhook_messages m WHERE m.account_id IN " + inBatch,
		"SELECT i.account_id, i.value_hash FROM identity_attributes i WHERE i.account_id IN " + inBatch,
	} {
		rows, err := t.query(q, batch)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var acc string
			var key sql.NullString
			if err := rows.Scan(&acc, &key); err != nil {
				rows.Close()
				return nil, err
			}
			if key.Valid {
				out[key.String] = acc
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ErasureWork is one erasure of a batch.
type ErasureWork struct {
	ID string
	// DenyReason is filled by EraseBatch: the reason (of the policy's deny-list reasons)
	// whose active restriction keeps the account's identity hashes on the deny list.
	DenyReason string
}

// EraseBatch erases Standing's own data of several accounts in one transaction: every
// step's statements run once for the whole batch, the accounts move to erased (with an
// audit entry each), and each erasure gets its certificate (cert builds it from the
// counts), account.erased for the marketplace and the jobs that wait for its confirmation
// and end the retention. One commit per batch keeps bulk erasure fast; a crash before it
// leaves nothing half erased, and the batch simply runs again.
func (s *Store) EraseBatch(ctx context.Context, work []ErasureWork, steps []ErasureStep, afterStep func(),
	cert func(e standing.Erasure, counts []map[string]int, denyReason string) (standing.Certificate, time.Time, time.Time)) (int, error) {
	erased := 0
	var erasedIDs []string
	denyList := s.policy().Reregistration.DenyListReasons
	err := s.write(ctx, func(t *tx) error {
		erased = 0
		batch := standing.NewID("bat", t.now)
		var due []standing.Erasure
		var accounts []standing.Account
		var standings []standing.Standing
		var denies []string
		counts := map[string][]map[string]int{}
		for _, w := range work {
			e, err := scanErasure(t.queryRow("SELECT "+erasureColumns+" FROM erasures WHERE id = ?", w.ID))
			if err != nil {
				return err
			}
			if e.State != standing.ErasureRunning && (e.State != standing.ErasureScheduled || t.now.Before(e.ScheduledFor)) {
				continue
			}
			if e.ExecutedAt == nil {
				now := t.now
				e.ExecutedAt = &now
			}
			if _, err := t.exec("UPDATE erasures SET state = 'running', executed_at = ? WHERE id = ?", ts(*e.ExecutedAt), e.ID); err != nil {
				return err
			}
			e.State = standing.ErasureRunning
			a, err := t.accountForUpdate(e.AccountID)
			if err != nil {
				return err
			}
			st, err := t.standing(a.ID)
			if err != nil {
				return err
			}
			deny := ""
			for _, r := range st.Restrictions {
				if standing.HasString(denyList, r.ReasonCode) {
					deny = r.ReasonCode
					break
				}
			}
			if _, err := t.exec("INSERT INTO erasure_batch (batch_id, account_id, email, deny_reason, at) VALUES (?, ?, ?, ?, ?)",
				batch, a.ID, a.Email, deny, ts(t.now)); err != nil {
				return err
			}
			due, accounts, standings, denies = append(due, e), append(accounts, a), append(standings, st), append(denies, deny)
			counts[a.ID] = make([]map[string]int, len(steps))
			for i, step := range steps {
				counts[a.ID][i] = map[string]int{}
				for _, st := range step.stmts {
					if st.count != "" { // an uncounted statement (eraseEventsStmts)
						counts[a.ID][i][st.count] = 0
					}
				}
			}
		}
		if len(due) == 0 {
			return nil
		}
		if err := t.eraseSteps(batch, steps, counts, afterStep); err != nil {
			return err
		}
		for k, e := range due {
			a := accounts[k]
			if a.Lifecycle != standing.LifecycleErased {
				if err := t.setLifecycleOf(&a, &standings[k], standing.LifecycleErased, "system", "erasure", ""); err != nil {
					return err
				}
			}
			byStep := map[string]map[string]int{}
			for i, step := range steps {
				byStep[step.Name] = counts[a.ID][i]
			}
			if err := t.recordStep(e.ID, "database", flatten(byStep)); err != nil {
				return err
			}
			c, awaitUntil, retentionEnd := cert(e, counts[a.ID], denies[k])
			if err := t.finishOwn(e, c, awaitUntil, retentionEnd); err != nil {
				return err
			}
			erased++
		}
		erasedIDs = erasedIDs[:0]
		for _, a := range accounts {
			erasedIDs = append(erasedIDs, a.ID)
		}
		_, err := t.exec("DELETE FROM erasure_batch WHERE batch_id = ?", batch)
		return err
	})
	if err == nil {
		// The risk engine keeps features of busy accounts in memory; they go too. (Their
		// tail events went in the transaction: eraseSteps.)
		s.riskForget(erasedIDs...)
	}
	return erased, err
}

// eraseSteps runs the steps for the accounts of a batch (in erasure_batch), adding to
// counts[account][step][what] the rows each statement changed.
func (t *tx) eraseSteps(batch string, steps []ErasureStep, counts map[string][]map[string]int, afterStep func()) error {
	owner, err := t.owners(batch)
	if err != nil {
		return err
	}
	if err := t.keepEventRowFloor(); err != nil { // the batch's events may be the newest
		return err
	}
	var accounts []string // on SQLite, whose events are found through the tail and segments
	if t.s.dialect == SQLite {
		accounts = make([]string, 0, len(counts))
		for id := range counts {
			accounts = append(accounts, id)
		}
		if err := t.stageEventRows(batch, accounts); err != nil {
			return err
		}
	}
	for i, step := range steps {
		for _, st := range step.stmts {
			rows, err := t.query(st.query, batch)
			if err != nil {
				return fmt.Errorf("erasure step %s: %w", step.Name, err)
			}
			for rows.Next() {
				var key sql.NullString
				if err := rows.Scan(&key); err != nil {
					rows.Close()
					return err
				}
				id := key.String
				if _, ok := counts[id]; !ok {
					id = owner[key.String]
				}
				if c, ok := counts[id]; ok && st.count != "" {
					c[i][st.count]++
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if afterStep != nil {
			afterStep()
		}
	}
	if t.s.dialect == SQLite {
		t.dropTail(accounts)
		_, err := t.exec("DELETE FROM erasure_event_rows WHERE batch_id = ?", batch)
		return err
	}
	return nil
}

// flatten writes step counts as "step.what" → n.
func flatten(byStep map[string]map[string]int) map[string]int {
	out := map[string]int{}
	for step, c := range byStep {
		for what, n := range c {
			out[step+"."+what] = n
		}
	}
	return out
}

func (t *tx) count(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// delete runs statements and counts affected rows under names.
func (t *tx) counted(removed map[string]int, name, query string, args ...any) error {
	n, err := t.count(t.exec(query, args...))
	if err != nil {
		return err
	}
	removed[name] += n
	return nil
}

// finishOwn records the certificate of Standing's part and the two deadlines that follow
// (the marketplace's confirmation, the end of retention), and queues account.erased for
// the marketplace. The erasure sweeps act on the deadlines; no job per erasure is needed.
func (t *tx) finishOwn(e standing.Erasure, cert standing.Certificate, awaitUntil, retentionEnd time.Time) error {
	cert.Marketplace = &standing.MarketplaceConfirmation{DeadlineAt: awaitUntil}
	b, _ := json.Marshal(cert)
	if _, err := t.exec("UPDATE erasures SET state = 'awaiting_marketplace', certificate = ?, await_until = ?, retention_end = ? WHERE id = ?",
		string(b), ts(awaitUntil), ts(retentionEnd), e.ID); err != nil {
		return err
	}
	return t.emit("account.erased", e.AccountID, map[string]any{"erasure_id": e.ID, "account_id": e.AccountID,
		"confirm_at": t.s.baseURL + "/v1/erasures/" + e.ID + "/confirmations"})
}

// ErasureDeadlines returns the ids of erasures whose marketplace deadline passed
// unconfirmed, and of those whose retention ended, at now.
func (s *Store) ErasureDeadlines(ctx context.Context, now time.Time, limit int) (unconfirmed, retentionOver []string, err error) {
	for _, q := range []struct {
		query string
		out   *[]string
	}{
		{"SELECT id FROM erasures WHERE state = 'awaiting_marketplace' AND await_until <= ? ORDER BY await_until LIMIT ?", &unconfirmed},
		{"SELECT id FROM erasures WHERE retention_end <= ? ORDER BY retention_end LIMIT ?", &retentionOver},
	} {
		rows, err := s.query(ctx, q.query, ts(now), limit)
		if err != nil {
			return nil, nil, translate(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, translate(err)
			}
			*q.out = append(*q.out, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, translate(err)
		}
	}
	return unconfirmed, retentionOver, nil
}

// ConfirmMarketplaceErasure records what the marketplace erased of its copies and
// finishes the erasure.
func (s *Store) ConfirmMarketplaceErasure(ctx context.Context, id string, erased []string, note string) (standing.Erasure, error) {
	var out standing.Erasure
	err := s.write(ctx, func(t *tx) error {
		e, err := scanErasure(t.queryRow("SELECT "+erasureColumns+" FROM erasures WHERE id = ?", id))
		if err == sql.ErrNoRows {
			return standing.Errorf(standing.ENOTFOUND, "no erasure %q", id)
		} else if err != nil {
			return err
		}
		switch e.State {
		case standing.ErasureScheduled, standing.ErasureRunning:
			return standing.Errorf(standing.ECONFLICT, "this erasure has not run yet; confirm after account.erased")
		case standing.ErasureCancelled:
			return standing.Errorf(standing.ECONFLICT, "this erasure was cancelled; the account was restored")
		case standing.ErasureDone:
			if e.Certificate != nil && e.Certificate.Marketplace != nil && e.Certificate.Marketplace.ConfirmedAt != nil {
				return standing.Errorf(standing.ECONFLICT, "the marketplace already confirmed this erasure on %s", standing.FormatTime(*e.Certificate.Marketplace.ConfirmedAt))
			}
		}
		now := t.now
		if e.Certificate == nil {
			e.Certificate = &standing.Certificate{}
		}
		if e.Certificate.Marketplace == nil {
			e.Certificate.Marketplace = &standing.MarketplaceConfirmation{}
		}
		e.Certificate.Marketplace.ConfirmedAt, e.Certificate.Marketplace.Erased, e.Certificate.Marketplace.Note = &now, erased, note
		e.Certificate.Marketplace.TimedOut = false
		b, _ := json.Marshal(e.Certificate)
		if _, err := t.exec("UPDATE erasures SET state = 'done', certificate = ?, finished_at = COALESCE(finished_at, ?) WHERE id = ?", string(b), ts(now), id); err != nil {
			return err
		}
		e.State = standing.ErasureDone
		if e.FinishedAt == nil {
			e.FinishedAt = &now
		}
		out = e
		return nil
	})
	return out, err
}

// CloseUnconfirmedErasure finishes an erasure whose marketplace did not confirm by its
// deadline, recording that in the certificate.
func (s *Store) CloseUnconfirmedErasure(ctx context.Context, id string) error {
	return s.write(ctx, func(t *tx) error {
		e, err := scanErasure(t.queryRow("SELECT "+erasureColumns+" FROM erasures WHERE id = ?", id))
		if err != nil || e.State != standing.ErasureAwaitingMarketplace {
			return err
		}
		if e.Certificate == nil {
			e.Certificate = &standing.Certificate{}
		}
		if e.Certificate.Marketplace == nil {
			e.Certificate.Marketplace = &standing.MarketplaceConfirmation{}
		}
		e.Certificate.Marketplace.TimedOut = true
		e.Certificate.Marketplace.Note = "The marketplace did not confirm by the deadline; its copies are its own responsibility."
		b, _ := json.Marshal(e.Certificate)
		_, err = t.exec("UPDATE erasures SET state = 'done', certificate = ?, finished_at = ? WHERE id = ?", string(b), ts(t.now), id)
		return err
	})
}

// EndRetention deletes the anonymised orders and disputes an erased account left, once
// the retention the law requires has ended.
func (s *Store) EndRetention(ctx context.Context, id string) (map[string]int, error) {
	r := map[string]int{}
	err := s.write(ctx, func(t *tx) error {
		var accountID string
		if err := t.queryRow("SELECT account_id FROM erasures WHERE id = ?", id).Scan(&accountID); err != nil {
			return err
		}
		if err := t.counted(r, "disputes", "DELETE FROM disputes WHERE buyer_id = ? OR seller_id = ?", accountID, accountID); err != nil {
			return err
		}
		if err := t.counted(r, "orders", "DELETE FROM orders WHERE (buyer_id = ? OR seller_id = ?) AND id NOT IN (SELECT order_id FROM disputes)", accountID, accountID); err != nil {
			return err
		}
		_, err := t.exec("UPDATE erasures SET retention_end = NULL WHERE id = ?", id)
		return err
	})
	return r, err
}

// ErasedAt reports when the account's erasure ran, if it did.
func (s *Store) ErasedAt(ctx context.Context, accountID string) (*time.Time, error) {
	var at sql.NullInt64
	err := s.queryRow(ctx, "SELECT MAX(executed_at) FROM erasures WHERE account_id = ? AND state IN ('awaiting_marketplace', 'done')", accountID).Scan(&at)
	return fromNullTS(at), translate(err)
}

// Tracking is what anyone may see of an order by its tracking number: no names, no account.
type Tracking struct {
	Number    string    `json:"tracking_number"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Track returns the status of the order with the tracking number; ENOTFOUND if none.
func (s *Store) Track(ctx context.Context, number string) (Tracking, error) {
	t := Tracking{Number: number}
	var updated int64
	err := s.queryRow(ctx, "SELECT status, updated_at FROM orders WHERE tracking_number = ?", number).Scan(&t.Status, &updated)
	if err == sql.ErrNoRows {
		return t, standing.Errorf(standing.ENOTFOUND, "no parcel with that tracking number")
	}
	t.UpdatedAt = fromTS(updated)
	return t, translate(err)
}
