package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"standing"
)

const appealColumns = `id, account_id, COALESCE(restriction_id, ''), COALESCE(order_id, ''), reason_code, statement, status,
	urgent, urgent_reason, priority, submitted_at, due_at, breach_at, escalated_at, breached_at, assigned_to,
	decided_at, decided_by, decision_note, updated_at`

func scanAppeal(row interface{ Scan(...any) error }) (standing.Appeal, error) {
	var a standing.Appeal
	var urgent int
	var submitted, due, breach, updated int64
	var escalated, breached, decided sql.NullInt64
	err := row.Scan(&a.ID, &a.AccountID, &a.RestrictionID, &a.OrderID, &a.ReasonCode, &a.Statement, &a.Status,
		&urgent, &a.UrgentReason, &a.Priority, &submitted, &due, &breach, &escalated, &breached, &a.AssignedTo,
		&decided, &a.DecidedBy, &a.DecisionNote, &updated)
	a.Urgent = urgent != 0
	a.SubmittedAt, a.DueAt, a.BreachAt, a.UpdatedAt = fromTS(submitted), fromTS(due), fromTS(breach), fromTS(updated)
	a.EscalatedAt, a.BreachedAt, a.DecidedAt = fromNullTS(escalated), fromNullTS(breached), fromNullTS(decided)
	return a, err
}

const evidenceColumns = `id, COALESCE(appeal_id, ''), account_id, slot, filename, kind, content_type, size, blob_key, created_at`

func scanEvidence(row interface{ Scan(...any) error }) (standing.Evidence, error) {
	var e standing.Evidence
	var created int64
	err := row.Scan(&e.ID, &e.AppealID, &e.AccountID, &e.Slot, &e.Filename, &e.Kind, &e.ContentType, &e.Size, &e.Key, &created)
	e.CreatedAt = fromTS(created)
	return e, err
}

// StageEvidence records an uploaded file (already in the blob store) as staged: it belongs
// to the account but to no appeal yet. A sweeper removes staged files never attached.
func (s *Store) StageEvidence(ctx context.Context, e standing.Evidence) (standing.Evidence, error) {
	err := s.write(ctx, func(t *tx) error {
		e.CreatedAt = t.now
		_, err := t.exec(`INSERT INTO evidence (id, appeal_id, account_id, slot, filename, kind, content_type, size, blob_key, state, created_at)
			VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, 'staged', ?)`,
			e.ID, e.AccountID, e.Slot, e.Filename, e.Kind, e.ContentType, e.Size, e.Key, ts(e.CreatedAt))
		return err
	})
	return e, err
}

// StagedEvidence returns the account's staged files among ids (others are ignored: a
// person can only attach their own uploads).
func (s *Store) StagedEvidence(ctx context.Context, accountID string, ids []string) ([]standing.Evidence, error) {
	var out []standing.Evidence
	for _, id := range ids {
		e, err := scanEvidence(s.queryRow(ctx, "SELECT "+evidenceColumns+" FROM evidence WHERE id = ? AND account_id = ? AND state = 'staged'", id, accountID))
		if err == sql.ErrNoRows {
			continue
		} else if err != nil {
			return nil, translate(err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Evidence returns one evidence file; ENOTFOUND if none.
func (s *Store) Evidence(ctx context.Context, id string) (standing.Evidence, error) {
	e, err := scanEvidence(s.queryRow(ctx, "SELECT "+evidenceColumns+" FROM evidence WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return e, standing.Errorf(standing.ENOTFOUND, "no evidence %q", id)
	}
	return e, translate(err)
}

// StaleStagedEvidence returns staged files older than before, for the sweeper.
func (s *Store) StaleStagedEvidence(ctx context.Context, before time.Time, limit int) ([]standing.Evidence, error) {
	rows, err := s.query(ctx, "SELECT "+evidenceColumns+" FROM evidence WHERE state = 'staged' AND created_at < ? ORDER BY created_at LIMIT ?", ts(before), limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []standing.Evidence
	for rows.Next() {
		e, err := scanEvidence(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

// DeleteEvidenceRow removes the row of a file the sweeper deleted.
func (s *Store) DeleteEvidenceRow(ctx context.Context, id string) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.exec("DELETE FROM evidence WHERE id = ? AND state = 'staged'", id)
		return err
	})
}

// EvidenceKeyExists reports whether a blob key belongs to a stored evidence row, for the
// orphan sweeper.
func (s *Store) EvidenceKeyExists(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM evidence WHERE blob_key = ?", key).Scan(&n)
	return n > 0, translate(err)
}

// SubmitAppeal files an appeal against a restriction or an order closed by risk, attaches
// the staged evidence, sets the review deadlines from the policy, and queues the
// confirmation mail — all in one transaction.
func (s *Store) SubmitAppeal(ctx context.Context, na standing.NewAppeal, required []string) (standing.Appeal, error) {
	var ap standing.Appeal
	err := s.write(ctx, func(t *tx) error {
		p := t.s.policy()
		acc, err := t.accountForUpdate(na.AccountID)
		if err != nil {
			return err
		}
		if acc.Lifecycle == standing.LifecycleErased || acc.Lifecycle == standing.LifecycleClosing {
			return standing.Errorf(standing.ECONFLICT, "This account is being deleted; it cannot appeal.")
		}
		ap = standing.Appeal{ID: standing.NewID("apl", t.now), AccountID: acc.ID, Statement: na.Statement,
			Status: standing.AppealSubmitted, Urgent: na.Urgent, UrgentReason: na.UrgentReason, SubmittedAt: t.now, UpdatedAt: t.now}
		var decidedAt time.Time
		switch {
		case na.RestrictionID != "":
			r, err := scanRestriction(t.queryRow("SELECT "+restrictionColumns+" FROM restrictions WHERE id = ? AND account_id = ?", na.RestrictionID, acc.ID))
			if err == sql.ErrNoRows {
				return standing.FieldErrorf(standing.ENOTFOUND, "restriction_id", "There is no such restriction on your account.")
			} else if err != nil {
				return err
			}
			if !r.Appealable {
				return standing.FieldErrorf(standing.EINVALID, "restriction_id", "“%s” cannot be appealed. What you can do: %s", r.Title, r.Remedy)
			}
			if r.State == standing.RestrictionLifted {
				return standing.FieldErrorf(standing.ECONFLICT, "restriction_id", "“%s” was already lifted; there is nothing to appeal.", r.Title)
			}
			ap.RestrictionID, ap.ReasonCode, decidedAt = r.ID, r.ReasonCode, r.StartsAt
		case na.OrderID != "":
			var status, reason string
			var closed sql.NullInt64
			err := t.queryRow("SELECT status, closed_reason_code, closed_at FROM orders WHERE id = ? AND buyer_id = ?", na.OrderID, acc.ID).Scan(&status, &reason, &closed)
			if err == sql.ErrNoRows {
				return standing.FieldErrorf(standing.ENOTFOUND, "order_id", "There is no such order on your account.")
			} else if err != nil {
				return err
			}
			if status != "closed_by_risk" {
				return standing.FieldErrorf(standing.EINVALID, "order_id", "Only orders closed by our risk checks can be appealed; this one is %s.", strings.ReplaceAll(status, "_", " "))
			}
			if reason == "" {
				reason = standing.ReasonRiskReview
			}
			ap.OrderID, ap.ReasonCode = na.OrderID, reason
			decidedAt = t.now
			if closed.Valid {
				decidedAt = fromTS(closed.Int64)
			}
		default:
			return standing.FieldErrorf(standing.EINVALID, "restriction_id", "Say which restriction or closed order you appeal.")
		}
		if closes := p.AppealClosesAt(decidedAt); t.now.After(closes) {
			return standing.Errorf(standing.EGONE, "The time to appeal this decision ended on %s; it was taken on %s.", standing.FormatTime(closes), standing.FormatTime(decidedAt))
		}
		ap.DueAt = t.now.Add(p.Appeals.ReviewTarget.D())
		ap.BreachAt = t.now.Add(p.Appeals.Breach.D())
		if ap.Urgent {
			ap.Priority = standing.PriorityUrgent
		}
		// Looked up before the INSERT: after a unique violation PostgreSQL has aborted the
		// transaction and answers no more queries. The account is locked, so another
		// appeal of its own cannot be filed in between.
		if existing, err := t.openAppealOf(ap.RestrictionID, ap.OrderID); err != nil {
			return err
		} else if existing != "" {
			return standing.Errorf(standing.ECONFLICT, "You already appealed this decision (appeal %s), and a reviewer has not answered yet. Add documents or a message to that appeal instead.", existing)
		}
		_, err = t.exec(`INSERT INTO appeals (id, account_id, restriction_id, order_id, reason_code, statement, status, urgent,
			urgent_reason, priority, submitted_at, due_at, breach_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ap.ID, ap.AccountID, nullString(ap.RestrictionID), nullString(ap.OrderID), ap.ReasonCode, ap.Statement, ap.Status,
			boolInt(ap.Urgent), ap.UrgentReason, ap.Priority, ts(ap.SubmittedAt), ts(ap.DueAt), ts(ap.BreachAt), ts(ap.UpdatedAt))
		if isUnique(err) {
			return standing.Errorf(standing.ECONFLICT, "You already appealed this decision, and a reviewer has not answered yet. Add documents or a message to your open appeal instead.")
		} else if err != nil {
			return err
		}
		slots, err := t.attachEvidence(ap.ID, acc.ID, na.EvidenceIDs)
		if err != nil {
			return err
		}
		for _, slot := range required {
			if !slots[slot] {
				return standing.FieldErrorf(standing.EINVALID, "file_"+slot, "This document is needed for the review.")
			}
		}
		if err := t.audit(standing.AuditEntry{AccountID: acc.ID, Actor: "self", Action: "appeal.submitted", SubjectID: ap.ID,
			Reason: ap.ReasonCode, Personal: ap.Statement}); err != nil {
			return err
		}
		_, err = t.queueMail(standing.Mail{AccountID: acc.ID, To: acc.Email, Kind: "appeal_received",
			Subject: "We received your appeal",
			Text: "Hello,\n\nWe received your appeal. A person — not a machine — will review it and answer by " +
				standing.FormatTime(ap.DueAt) + ".\n\nYou can follow it, add documents or write to the reviewer here: " +
				t.s.baseURL + "/appeals/" + ap.ID + "\n"})
		return err
	})
	if err != nil {
		return ap, err
	}
	return s.Appeal(ctx, ap.ID)
}

// openAppealOf returns the id of the open appeal against the restriction or the order,
// or "" if there is none.
func (t *tx) openAppealOf(restrictionID, orderID string) (string, error) {
	q, arg := "SELECT id FROM appeals WHERE restriction_id = ? AND status IN ('submitted', 'in_review', 'needs_info')", restrictionID
	if restrictionID == "" {
		q, arg = "SELECT id FROM appeals WHERE order_id = ? AND status IN ('submitted', 'in_review', 'needs_info')", orderID
	}
	var id string
	err := t.queryRow(q, arg).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return id, err
}

// attachEvidence moves the account's staged files to the appeal and returns the slots
// they fill.
func (t *tx) attachEvidence(appealID, accountID string, ids []string) (map[string]bool, error) {
	slots := map[string]bool{}
	for _, id := range ids {
		var slot string
		err := t.queryRow("SELECT slot FROM evidence WHERE id = ? AND account_id = ? AND state = 'staged'", id, accountID).Scan(&slot)
		if err == sql.ErrNoRows {
			continue
		} else if err != nil {
			return nil, err
		}
		if _, err := t.exec("UPDATE evidence SET appeal_id = ?, state = 'attached' WHERE id = ?", appealID, id); err != nil {
			return nil, err
		}
		slots[slot] = true
	}
	rows, err := t.query("SELECT slot FROM evidence WHERE appeal_id = ?", appealID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var slot string
		if err := rows.Scan(&slot); err != nil {
			return nil, err
		}
		slots[slot] = true
	}
	return slots, rows.Err()
}

// Appeal returns an appeal with its evidence and messages; ENOTFOUND if none.
func (s *Store) Appeal(ctx context.Context, id string) (standing.Appeal, error) {
	a, err := scanAppeal(s.queryRow(ctx, "SELECT "+appealColumns+" FROM appeals WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return a, standing.Errorf(standing.ENOTFOUND, "no appeal %q", id)
	} else if err != nil {
		return a, translate(err)
	}
	rows, err := s.query(ctx, "SELECT "+evidenceColumns+" FROM evidence WHERE appeal_id = ? ORDER BY created_at, id", id)
	if err != nil {
		return a, translate(err)
	}
	for rows.Next() {
		e, err := scanEvidence(rows)
		if err != nil {
			rows.Close()
			return a, translate(err)
		}
		a.Evidence = append(a.Evidence, e)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return a, translate(err)
	}
	rows, err = s.query(ctx, "SELECT id, appeal_id, author, from_staff, body, created_at FROM appeal_messages WHERE appeal_id = ? ORDER BY created_at, id", id)
	if err != nil {
		return a, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m standing.AppealMessage
		var staff int
		var created int64
		if err := rows.Scan(&m.ID, &m.AppealID, &m.Author, &staff, &m.Body, &created); err != nil {
			return a, translate(err)
		}
		m.FromStaff, m.CreatedAt = staff != 0, fromTS(created)
		a.Messages = append(a.Messages, m)
	}
	return a, translate(rows.Err())
}

// AppealsOf lists an account's appeals, newest first.
func (s *Store) AppealsOf(ctx context.Context, accountID string) ([]standing.Appeal, error) {
	rows, err := s.query(ctx, "SELECT "+appealColumns+" FROM appeals WHERE account_id = ? ORDER BY submitted_at DESC, id DESC", accountID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Appeal{}
	for rows.Next() {
		a, err := scanAppeal(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, a)
	}
	return out, translate(rows.Err())
}

// Queue returns open appeals for the console: highest priority first, then the earliest
// due. Every filter uses an index, so the first page stays fast with millions of appeals.
func (s *Store) Queue(ctx context.Context, f standing.QueueFilter) ([]standing.Appeal, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var rows *sql.Rows
	var err error
	const order = " ORDER BY priority DESC, due_at, id LIMIT ?"
	switch {
	case f.ReasonCode != "" && f.Status != "":
		rows, err = s.query(ctx, "SELECT "+appealColumns+" FROM appeals WHERE reason_code = ? AND status = ?"+order, f.ReasonCode, f.Status, f.Limit)
	case f.ReasonCode != "":
		rows, err = s.query(ctx, "SELECT "+appealColumns+" FROM appeals WHERE reason_code = ? AND status IN ('submitted', 'in_review', 'needs_info')"+order, f.ReasonCode, f.Limit)
	case f.Status != "":
		rows, err = s.query(ctx, "SELECT "+appealColumns+" FROM appeals WHERE status = ?"+order, f.Status, f.Limit)
	case f.AssignedTo != "":
		rows, err = s.query(ctx, "SELECT "+appealColumns+" FROM appeals WHERE assigned_to = ? AND status IN ('submitted', 'in_review', 'needs_info')"+order, f.AssignedTo, f.Limit)
	default:
		rows, err = s.query(ctx, "SELECT "+appealColumns+" FROM appeals WHERE status IN ('submitted', 'in_review', 'needs_info')"+order, f.Limit)
	}
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Appeal{}
	for rows.Next() {
		a, err := scanAppeal(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, a)
	}
	return out, translate(rows.Err())
}

// QueueStats counts open appeals, the oldest one's submission time, and the breached ones.
func (s *Store) QueueStats(ctx context.Context) (open int, oldest time.Time, breached int, err error) {
	var min sql.NullInt64
	err = s.queryRow(ctx, `SELECT COUNT(*), MIN(submitted_at), COUNT(breached_at) FROM appeals
		WHERE status IN ('submitted', 'in_review', 'needs_info')`).Scan(&open, &min, &breached)
	if min.Valid {
		oldest = fromTS(min.Int64)
	}
	return open, oldest, breached, translate(err)
}

func (t *tx) appealForUpdate(id string) (standing.Appeal, error) {
	q := "SELECT " + appealColumns + " FROM appeals WHERE id = ?"
	if t.s.dialect == Postgres {
		q += " FOR UPDATE"
	}
	a, err := scanAppeal(t.queryRow(q, id))
	if err == sql.ErrNoRows {
		return a, standing.Errorf(standing.ENOTFOUND, "no appeal %q", id)
	}
	return a, err
}

// Claim assigns an open appeal to a reviewer (to someone else with assignee) and marks it
// in review.
func (s *Store) Claim(ctx context.Context, appealID string, by standing.StaffUser, assignee string) error {
	return s.write(ctx, func(t *tx) error {
		a, err := t.appealForUpdate(appealID)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return standing.Errorf(standing.ECONFLICT, "This appeal was already decided (%s).", a.Status)
		}
		if assignee == "" {
			assignee = by.ID
		}
		next := a.Status
		if a.Status == standing.AppealSubmitted {
			next = standing.AppealInReview
		}
		_, err = t.exec("UPDATE appeals SET assigned_to = ?, status = ?, updated_at = ? WHERE id = ?", assignee, next, ts(t.now), a.ID)
		return err
	})
}

// AddAppealMessage adds a message (and, from the person, documents) to the thread. A
// person's answer to a request for information sends the appeal back to the queue, with
// its deadlines moved by the time it waited for the person.
func (s *Store) AddAppealMessage(ctx context.Context, appealID, author string, fromStaff bool, body string, evidenceIDs []string) error {
	return s.write(ctx, func(t *tx) error {
		a, err := t.appealForUpdate(appealID)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return standing.Errorf(standing.ECONFLICT, "This appeal was decided on %s; the thread is closed.", standing.FormatTime(*a.DecidedAt))
		}
		if body != "" {
			if _, err := t.exec("INSERT INTO appeal_messages (id, appeal_id, author, from_staff, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
				standing.NewID("msg", t.now), a.ID, author, boolInt(fromStaff), body, ts(t.now)); err != nil {
				return err
			}
		}
		if !fromStaff {
			if _, err := t.attachEvidence(a.ID, a.AccountID, evidenceIDs); err != nil {
				return err
			}
			if a.Status == standing.AppealNeedsInfo {
				var asked sql.NullInt64
				if err := t.queryRow("SELECT info_requested_at FROM appeals WHERE id = ?", a.ID).Scan(&asked); err != nil {
					return err
				}
				waited := time.Duration(0)
				if asked.Valid {
					waited = t.now.Sub(fromTS(asked.Int64))
				}
				_, err := t.exec(`UPDATE appeals SET status = 'submitted', info_requested_at = NULL, due_at = ?, breach_at = ?, updated_at = ? WHERE id = ?`,
					ts(a.DueAt.Add(waited)), ts(a.BreachAt.Add(waited)), ts(t.now), a.ID)
				return err
			}
		}
		_, err = t.exec("UPDATE appeals SET updated_at = ? WHERE id = ?", ts(t.now), a.ID)
		return err
	})
}

// DecideResult says what a reviewer's decision did.
type DecideResult struct {
	Appeal standing.Appeal
	// Pending is set when the decision waits for a second reviewer.
	Pending bool
}

// DecideAppeal records a reviewer's decision. Overturning lifts the restriction (and the
// one that closed an order); overturning a fraud_confirmed restriction needs two different
// reviewers, so the first vote only records itself. Every outcome mails the person. The
// mail texts come from the caller so the words live with the rest of the product's words.
func (s *Store) DecideAppeal(ctx context.Context, appealID string, by standing.StaffUser, decision, note string, texts func(standing.Appeal, string) standing.Mail) (DecideResult, error) {
	var res DecideResult
	err := s.write(ctx, func(t *tx) error {
		a, err := t.appealForUpdate(appealID)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return standing.Errorf(standing.ECONFLICT, "This appeal was already decided (%s).", a.Status)
		}
		acc, err := t.accountForUpdate(a.AccountID)
		if err != nil {
			return err
		}
		switch decision {
		case standing.DecideAskInfo:
			if strings.TrimSpace(note) == "" {
				return standing.FieldErrorf(standing.EINVALID, "note", "Say what the person should add.")
			}
			if _, err := t.exec("UPDATE appeals SET status = 'needs_info', info_requested_at = ?, assigned_to = ?, updated_at = ? WHERE id = ?",
				ts(t.now), by.ID, ts(t.now), a.ID); err != nil {
				return err
			}
			if _, err := t.exec("INSERT INTO appeal_messages (id, appeal_id, author, from_staff, body, created_at) VALUES (?, ?, ?, 1, ?, ?)",
				standing.NewID("msg", t.now), a.ID, by.Name, note, ts(t.now)); err != nil {
				return err
			}
			a.Status = standing.AppealNeedsInfo
		case standing.DecideOverturn, standing.DecideUphold:
			if strings.TrimSpace(note) == "" {
				return standing.FieldErrorf(standing.EINVALID, "note", "Write the grounds of the decision; the person reads them.")
			}
			if _, err := t.exec(`INSERT INTO appeal_votes (appeal_id, staff_id, decision, note, at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (appeal_id, staff_id) DO UPDATE SET decision = excluded.decision, note = excluded.note, at = excluded.at`,
				a.ID, by.ID, decision, note, ts(t.now)); err != nil {
				return err
			}
			if decision == standing.DecideOverturn && a.ReasonCode == standing.ReasonFraudConfirmed {
				var n int
				if err := t.queryRow("SELECT COUNT(*) FROM appeal_votes WHERE appeal_id = ? AND decision = 'overturned'", a.ID).Scan(&n); err != nil {
					return err
				}
				if n < 2 {
					res.Pending = true
					_, err := t.exec("UPDATE appeals SET updated_at = ? WHERE id = ?", ts(t.now), a.ID)
					res.Appeal = a
					return err
				}
			}
			if _, err := t.exec("UPDATE appeals SET status = ?, decided_at = ?, decided_by = ?, decision_note = ?, updated_at = ? WHERE id = ?",
				decision, ts(t.now), by.Name, note, ts(t.now), a.ID); err != nil {
				return err
			}
			a.Status, a.DecisionNote, a.DecidedBy = standing.AppealStatus(decision), note, by.Name
			now := t.now
			a.DecidedAt = &now
			if decision == standing.DecideOverturn {
				if err := t.overturn(a, by); err != nil {
					return err
				}
			}
			if err := t.audit(standing.AuditEntry{AccountID: a.AccountID, Actor: "reviewer:" + by.ID, Action: "appeal." + decision,
				SubjectID: a.ID, Reason: a.ReasonCode, Personal: note}); err != nil {
				return err
			}
		default:
			return standing.FieldErrorf(standing.EINVALID, "decision", "decision must be overturned, upheld or needs_info, not %q", decision)
		}
		res.Appeal = a
		if acc.Email != "" && acc.Lifecycle != standing.LifecycleErased {
			m := texts(a, note)
			m.AccountID, m.To = acc.ID, acc.Email
			if _, err := t.queueMail(m); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// overturn lifts what the appeal contested.
func (t *tx) overturn(a standing.Appeal, by standing.StaffUser) error {
	ids := []string{}
	if a.RestrictionID != "" {
		ids = append(ids, a.RestrictionID)
	}
	if a.OrderID != "" {
		var rid string
		if err := t.queryRow("SELECT closed_restriction_id FROM orders WHERE id = ?", a.OrderID).Scan(&rid); err != nil && err != sql.ErrNoRows {
			return err
		}
		if rid != "" {
			ids = append(ids, rid)
		}
	}
	for _, id := range ids {
		r, err := scanRestriction(t.queryRow("SELECT "+restrictionColumns+" FROM restrictions WHERE id = ?", id))
		if err != nil {
			return err
		}
		if r.State != standing.RestrictionActive {
			continue
		}
		if _, _, err := t.endActive(r, standing.RestrictionLifted, "reviewer:"+by.Name, "appeal "+a.ID+" overturned"); err != nil {
			return err
		}
	}
	return nil
}

// EscalateAppeals marks open appeals past the escalation point (a fraction of the breach
// time) and past their breach time, raising their priority; it returns how many of each.
func (s *Store) EscalateAppeals(ctx context.Context, now time.Time) (escalated, breached int, err error) {
	p := s.policy()
	err = s.write(ctx, func(t *tx) error {
		// Escalate at EscalateAt of the time between submission and breach.
		frac := p.Appeals.EscalateAt
		res, err := t.exec(`UPDATE appeals SET escalated_at = ?, priority = priority + ?, updated_at = ?
			WHERE status IN ('submitted', 'in_review') AND escalated_at IS NULL
			AND submitted_at + CAST((breach_at - submitted_at) * CAST(? AS DOUBLE PRECISION) AS BIGINT) <= ?`,
			ts(now), standing.PriorityEscalated, ts(now), frac, ts(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		escalated = int(n)
		res, err = t.exec(`UPDATE appeals SET breached_at = ?, priority = priority + ?, updated_at = ?
			WHERE status IN ('submitted', 'in_review') AND breached_at IS NULL AND breach_at <= ?`,
			ts(now), standing.PriorityBreached, ts(now), ts(now))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		breached = int(n)
		return nil
	})
	return escalated, breached, err
}

// ClosedOrder is what an appeal form shows of an order closed by risk.
type ClosedOrder struct {
	ID, Reason, ReasonCode string
}

// ClosedOrder returns the account's order closed by risk; ENOTFOUND for another account's
// order, EINVALID for one not closed by risk.
func (s *Store) ClosedOrder(ctx context.Context, accountID, orderID string) (ClosedOrder, error) {
	o := ClosedOrder{ID: orderID}
	var status string
	err := s.queryRow(ctx, "SELECT status, closed_reason, closed_reason_code FROM orders WHERE id = ? AND buyer_id = ?", orderID, accountID).Scan(&status, &o.Reason, &o.ReasonCode)
	if err == sql.ErrNoRows {
		return o, standing.Errorf(standing.ENOTFOUND, "There is no such order on your account.")
	} else if err != nil {
		return o, translate(err)
	}
	if status != "closed_by_risk" {
		return o, standing.Errorf(standing.EINVALID, "Only orders closed by our risk checks can be appealed; this one is %s.", strings.ReplaceAll(status, "_", " "))
	}
	return o, nil
}

// Votes lists the reviewers' votes on an appeal as "name: decision".
func (s *Store) Votes(ctx context.Context, appealID string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT u.name, v.decision FROM appeal_votes v JOIN staff_users u ON u.id = v.staff_id
		WHERE v.appeal_id = ? ORDER BY v.at`, appealID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, decision string
		if err := rows.Scan(&name, &decision); err != nil {
			return nil, translate(err)
		}
		out = append(out, name+": "+decision)
	}
	return out, translate(rows.Err())
}
