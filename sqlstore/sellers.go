package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"standing"
	"standing/jobs"
	"standing/penalty"
)

// The durable jobs of seller penalties.
const (
	// JobSellerFeeOverdue runs at a fee's grace deadline: unpaid, it pauses selling.
	JobSellerFeeOverdue = "seller.fee_overdue"
	// JobSellerClosure runs when an EU closure notice takes effect: still due, it closes
	// the store.
	JobSellerClosure = "seller.closure"
)

const violationColumns = `id, seller_id, type, ledger, case_id, points, at, evidence, note, actor,
	withdrawn_at, withdrawn_by, withdraw_note`

func scanViolation(row interface{ Scan(...any) error }) (penalty.Violation, error) {
	var v penalty.Violation
	var at int64
	var withdrawn sql.NullInt64
	err := row.Scan(&v.ID, &v.SellerID, &v.Type, &v.Ledger, &v.CaseID, &v.Points, &at, &v.Evidence, &v.Note, &v.Actor,
		&withdrawn, &v.WithdrawnBy, &v.WithdrawNote)
	v.At, v.WithdrawnAt = fromTS(at), fromNullTS(withdrawn)
	return v, err
}

// sellerAccount reads and locks the account a seller write names: ENOTFOUND and EGONE
// name the field; the role is checked by the caller (penalty.Resolve words it).
func (t *tx) sellerAccount(field, id string) (standing.Account, error) {
	a, err := t.accountForUpdate(strings.TrimSpace(id))
	if standing.ErrorCode(err) == standing.ENOTFOUND {
		return a, standing.FieldErrorf(standing.ENOTFOUND, field, "no account %q", id)
	} else if err != nil {
		return a, err
	}
	if a.Lifecycle == standing.LifecycleErased {
		return a, standing.FieldErrorf(standing.EGONE, field, "account %s was erased", a.ID)
	}
	return a, nil
}

// requireSeller refuses a buyer account with an error that names field.
func requireSeller(a standing.Account, field, what string) error {
	if a.Role != standing.RoleSeller {
		return standing.FieldErrorf(standing.EINVALID, field, "account %s is a %s account; %s apply only to seller accounts", a.ID, a.Role, what)
	}
	return nil
}

// sellerRecord reads what penalty.Apply needs about a seller: the violations that were not
// withdrawn and the warnings on record.
func (t *tx) sellerRecord(sellerID string) (penalty.Record, error) {
	var rec penalty.Record
	rows, err := t.query("SELECT "+violationColumns+" FROM seller_violations WHERE seller_id = ? AND withdrawn_at IS NULL ORDER BY at, id", sellerID)
	if err != nil {
		return rec, err
	}
	for rows.Next() {
		v, err := scanViolation(rows)
		if err != nil {
			rows.Close()
			return rec, err
		}
		rec.Violations = append(rec.Violations, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rec, err
	}
	rows, err = t.query("SELECT ledger, issued_at, violation_id FROM seller_notices WHERE seller_id = ? AND counts_as_warning = 1", sellerID)
	if err != nil {
		return rec, err
	}
	defer rows.Close()
	for rows.Next() {
		var w penalty.Warning
		var at int64
		if err := rows.Scan(&w.Ledger, &at, &w.ViolationID); err != nil {
			return rec, err
		}
		w.At = fromTS(at)
		rec.Warnings = append(rec.Warnings, w)
	}
	return rec, rows.Err()
}

// RecordViolation records a violation against a seller and applies what it brings:
// restrictions for suspensions, listing limits and closures, fines, warnings, and with the
// EU setting on, closure notices (with a job at their effective time) and prior warnings.
// Each is mailed to the seller and shown on the dashboard. Errors: EINVALID naming the
// field (a buyer account, an unknown type, negative points…), ENOTFOUND (field
// seller_id), EGONE for an erased seller, and ECONFLICT (field case_id) for a second
// report of a recorded case, which counts nothing. With an Idempotency-Key, a retry
// returns the first answer and reports replayed.
func (s *Store) RecordViolation(ctx context.Context, r penalty.Report, actor string, idem *standing.Idempotency) (penalty.Recorded, bool, error) {
	var out penalty.Recorded
	var replayed bool
	err := s.write(ctx, func(t *tx) error {
		var err error
		if replayed, err = t.claimIdempotency(idem, &out); err != nil || replayed {
			return err
		}
		a, err := t.sellerAccount("seller_id", r.SellerID)
		if err != nil {
			return err
		}
		rec, first, err := t.recordViolation(a, r, actor)
		if err != nil {
			return err
		}
		if first != nil {
			what := "was reported"
			if first.WithdrawnAt != nil {
				what = "was reported and later withdrawn"
			}
			return standing.FieldErrorf(standing.ECONFLICT, "case_id",
				"case %q of type %s against seller %s %s on %s as violation %s; nothing was counted again",
				first.CaseID, first.Type, first.SellerID, what, standing.FormatTime(first.At), first.ID)
		}
		out = rec
		return t.rememberIdempotency(idem, out)
	})
	return out, replayed, err
}

// recordViolation resolves, deduplicates and applies one report against the locked
// account a. A report of a recorded case returns that first violation and changes nothing.
func (t *tx) recordViolation(a standing.Account, r penalty.Report, actor string) (penalty.Recorded, *penalty.Violation, error) {
	p := t.s.policy()
	r.SellerID = a.ID
	v, err := penalty.Resolve(p, a.Role, r, t.now)
	if err != nil {
		return penalty.Recorded{}, nil, err
	}
	key := v.Key()
	if key != "" {
		first, err := scanViolation(t.queryRow("SELECT "+violationColumns+" FROM seller_violations WHERE dedupe_key = ?", key))
		if err == nil {
			return penalty.Recorded{}, &first, nil
		} else if err != sql.ErrNoRows {
			return penalty.Recorded{}, nil, err
		}
	}
	rec, err := t.sellerRecord(a.ID)
	if err != nil {
		return penalty.Recorded{}, nil, err
	}
	v.ID = standing.NewID("vio", t.now)
	v.Actor = actor
	o, err := penalty.Apply(p, rec, v, t.now)
	if err != nil {
		return penalty.Recorded{}, nil, err
	}
	out := penalty.Recorded{Outcome: o, Restrictions: []standing.Restriction{}, Fines: []penalty.Fine{}, NoticeLines: []penalty.NoticeLine{}}
	// The violation's mail goes first: it says what happened and what it brings; the
	// sanctions' and notices' own mails follow.
	sp := penalty.Standing(p, append(rec.Violations, v), t.now)
	subject, text := penalty.ViolationMail(p, o, sp, t.s.baseURL+"/seller")
	if err := t.mailSeller(a, "seller_violation", subject, text); err != nil {
		return out, nil, err
	}
	if err := t.applySanctions(a, &out); err != nil {
		return out, nil, err
	}
	outcome, err := json.Marshal(out)
	if err != nil {
		return out, nil, err
	}
	_, err = t.exec(`INSERT INTO seller_violations (id, seller_id, type, ledger, case_id, dedupe_key, points, counted, at,
		evidence, note, actor, outcome, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.SellerID, v.Type, v.Ledger, v.CaseID, nullString(key), v.Points, o.CountedPoints, ts(v.At),
		v.Evidence, v.Note, actor, string(outcome), ts(t.now))
	if isUnique(err) {
		return out, nil, standing.FieldErrorf(standing.ECONFLICT, "case_id", "case %q was reported at the same moment by another request; nothing was counted twice", v.CaseID)
	} else if err != nil {
		return out, nil, err
	}
	err = t.audit(standing.AuditEntry{AccountID: a.ID, Actor: actor, Action: standing.AuditViolationRecorded,
		SubjectID: v.ID, Reason: v.Type, Personal: v.Note})
	return out, nil, err
}

// applySanctions carries out the outcome's sanctions and notices.
func (t *tx) applySanctions(a standing.Account, out *penalty.Recorded) error {
	o := &out.Outcome
	var st *standing.Standing
	standingOf := func() (*standing.Standing, error) {
		if st == nil {
			s, err := t.standing(a.ID)
			if err != nil {
				return nil, err
			}
			st = &s
		}
		return st, nil
	}
	for _, s := range o.Sanctions {
		row := sanctionRow{sellerID: a.ID, violationID: o.Violation.ID, ledger: s.Ledger, kind: s.Kind, trigger: s.Trigger, level: s.Level, reason: s.Reason}
		switch s.Kind {
		case penalty.KindWarning:
			text := fmt.Sprintf("Warning: %s. This is a warning; your store keeps selling. Fix the cause shown on your seller dashboard; if the violation is wrong, ask support to withdraw it.", upperFirst(s.Reason))
			n, err := t.addNotice(a, noticeRow{kind: penalty.NoticeWarning, state: penalty.NoticeGiven, ledger: s.Ledger,
				violationID: o.Violation.ID, warning: true, effective: t.now, text: text}, "Warning about your store")
			if err != nil {
				return err
			}
			out.NoticeLines = append(out.NoticeLines, n)
		case penalty.KindFine:
			f, err := t.addFine(a, penalty.NewFine{Amount: s.Amount, Currency: s.FineCurrency(),
				Reason: upperFirst(s.Reason) + ".", ViolationID: o.Violation.ID}, "penalty")
			if err != nil {
				return err
			}
			out.Fines = append(out.Fines, f)
		default:
			cur, err := standingOf()
			if err != nil {
				return err
			}
			if s.Kind == penalty.KindClosure {
				if id := closedBy(cur, t.now); id != "" {
					row.restrictionID, row.reason = id, s.Reason+" (the store was closed already)"
					if err := t.addSanction(row); err != nil {
						return err
					}
					continue
				}
			}
			nr := s.Restriction(t.now, o.LedgerTitle)
			if nr == nil {
				continue
			}
			r, err := t.restrict(a, cur, *nr)
			if err != nil {
				return err
			}
			row.restrictionID = r.ID
			if err := t.addSanction(row); err != nil {
				return err
			}
			out.Restrictions = append(out.Restrictions, r)
		}
	}
	for i := range o.Notices {
		n := &o.Notices[i]
		row := noticeRow{kind: n.Kind, ledger: n.Ledger, violationID: n.ViolationID, effective: n.EffectiveAt, text: n.Text}
		subject := "Warning before a suspension of your store"
		if n.Kind == penalty.NoticeClosure {
			// The announced closure stands as a restriction that removes nothing, so the
			// seller can appeal it before it takes effect; its mail is the notice.
			cur, err := standingOf()
			if err != nil {
				return err
			}
			r, err := t.restrict(a, cur, *n.NoticeRestriction())
			if err != nil {
				return err
			}
			out.Restrictions = append(out.Restrictions, r)
			if err := t.addSanction(sanctionRow{sellerID: a.ID, violationID: n.ViolationID, ledger: n.Ledger, kind: closureNoticeKind,
				trigger: n.Sanction.Trigger, level: n.Sanction.Level, reason: n.Sanction.Reason, restrictionID: r.ID}); err != nil {
				return err
			}
			row.state, row.payload, row.restrictionID, subject = penalty.NoticePending, n, r.ID, ""
		} else {
			row.state, row.warning = penalty.NoticeGiven, true
		}
		line, err := t.addNotice(a, row, subject)
		if err != nil {
			return err
		}
		if n.Kind == penalty.NoticeClosure {
			payload, _ := json.Marshal(map[string]string{"notice_id": line.ID})
			if err := t.enqueue(jobs.Job{Kind: JobSellerClosure, DedupeKey: "seller.closure:" + line.ID, Payload: payload, RunAt: n.EffectiveAt}); err != nil {
				return err
			}
		}
		out.NoticeLines = append(out.NoticeLines, line)
	}
	return nil
}

// closureNoticeKind is the seller_sanctions kind of the restriction that stands for an
// announced closure (penalty.Notice.NoticeRestriction).
const closureNoticeKind = "closure_notice"

// closedBy returns the id of an active store closure (penalty.IsClosure) among the
// standing's restrictions.
func closedBy(st *standing.Standing, now time.Time) string {
	for _, r := range st.Restrictions {
		if penalty.IsClosure(r) && r.ActiveAt(now) {
			return r.ID
		}
	}
	return ""
}

type sanctionRow struct {
	sellerID, violationID, feeID, ledger, kind, trigger, reason, restrictionID string
	level                                                                      int
}

func (t *tx) addSanction(r sanctionRow) error {
	_, err := t.exec(`INSERT INTO seller_sanctions (id, seller_id, violation_id, fee_id, ledger, kind, trigger_kind, level, reason,
		restriction_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		standing.NewID("snc", t.now), r.sellerID, r.violationID, r.feeID, r.ledger, r.kind, r.trigger, r.level, r.reason,
		r.restrictionID, ts(t.now))
	return err
}

type noticeRow struct {
	kind, state, ledger, violationID, text, restrictionID string
	warning                                               bool
	effective                                             time.Time
	payload                                               any
}

// addNotice writes a dashboard line, mails its text to the seller under subject (no mail
// for an empty subject), and audits it.
func (t *tx) addNotice(a standing.Account, n noticeRow, subject string) (penalty.NoticeLine, error) {
	line := penalty.NoticeLine{ID: standing.NewID("ntc", t.now), Kind: n.kind, State: n.state, Ledger: n.ledger,
		ViolationID: n.violationID, IssuedAt: t.now, EffectiveAt: n.effective, Text: n.text}
	if line.EffectiveAt.IsZero() {
		line.EffectiveAt = t.now
	}
	payload := "{}"
	if n.payload != nil {
		b, err := json.Marshal(n.payload)
		if err != nil {
			return line, err
		}
		payload = string(b)
	}
	if _, err := t.exec(`INSERT INTO seller_notices (id, seller_id, kind, state, ledger, violation_id, counts_as_warning, issued_at,
		effective_at, text, payload, restriction_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		line.ID, a.ID, line.Kind, line.State, line.Ledger, line.ViolationID, boolInt(n.warning), ts(line.IssuedAt),
		ts(line.EffectiveAt), line.Text, payload, n.restrictionID, ts(t.now)); err != nil {
		return line, err
	}
	if err := t.audit(standing.AuditEntry{AccountID: a.ID, Actor: "penalty", Action: standing.AuditSellerNotice,
		SubjectID: line.ID, Reason: line.Kind}); err != nil {
		return line, err
	}
	if subject == "" {
		return line, nil // mailed otherwise (a closure notice, by its restriction)
	}
	text := "Hello,\n\n" + line.Text + "\n\nYour seller dashboard shows this notice with your points, performance and sanctions: " + t.s.baseURL + "/seller\n"
	return line, t.mailSeller(a, "seller_notice", subject, text)
}

// mailSeller queues a mail to the seller; accounts without an email get none.
func (t *tx) mailSeller(a standing.Account, kind, subject, text string) error {
	if a.Email == "" || a.Lifecycle == standing.LifecycleErased {
		return nil
	}
	_, err := t.queueMail(standing.Mail{AccountID: a.ID, To: a.Email, Kind: kind, Subject: subject, Text: text})
	return err
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// Violation returns a recorded violation with what it brought when it was recorded;
// ENOTFOUND if there is none.
func (s *Store) Violation(ctx context.Context, id string) (penalty.Recorded, error) {
	var outcome string
	row := s.queryRow(ctx, "SELECT "+violationColumns+", outcome FROM seller_violations WHERE id = ?", id)
	var v penalty.Violation
	var at int64
	var withdrawn sql.NullInt64
	err := row.Scan(&v.ID, &v.SellerID, &v.Type, &v.Ledger, &v.CaseID, &v.Points, &at, &v.Evidence, &v.Note, &v.Actor,
		&withdrawn, &v.WithdrawnBy, &v.WithdrawNote, &outcome)
	if err == sql.ErrNoRows {
		return penalty.Recorded{}, standing.Errorf(standing.ENOTFOUND, "no violation %q", id)
	} else if err != nil {
		return penalty.Recorded{}, translate(err)
	}
	v.At, v.WithdrawnAt = fromTS(at), fromNullTS(withdrawn)
	var rec penalty.Recorded
	if err := json.Unmarshal([]byte(outcome), &rec); err != nil {
		return rec, err
	}
	rec.Violation = v
	return rec, nil
}

// WithdrawViolation withdraws a violation reported in error: its points stop counting at
// once (and an announced closure it brought is cancelled when its time comes); with
// LiftSanctions the restrictions it brought are lifted too. ENOTFOUND, ECONFLICT if it was
// withdrawn already, EINVALID (field note) without a note.
func (s *Store) WithdrawViolation(ctx context.Context, id string, w penalty.Withdrawal) (penalty.Violation, []standing.Restriction, error) {
	w.Note = strings.TrimSpace(w.Note)
	if w.Note == "" {
		return penalty.Violation{}, nil, standing.FieldErrorf(standing.EINVALID, "note", "say why the violation is withdrawn; the seller reads it")
	}
	if len(w.Note) > standing.MaxNoteLen {
		return penalty.Violation{}, nil, standing.FieldErrorf(standing.EINVALID, "note", "note is longer than %d characters", standing.MaxNoteLen)
	}
	if w.Actor == "" {
		w.Actor = "api"
	}
	var out penalty.Violation
	var lifted []standing.Restriction
	err := s.write(ctx, func(t *tx) error {
		var v penalty.Violation
		a, err := t.lockAccountOf(func() (string, error) {
			var err error
			v, err = scanViolation(t.queryRow("SELECT "+violationColumns+" FROM seller_violations WHERE id = ?", id))
			if err == sql.ErrNoRows {
				return "", standing.Errorf(standing.ENOTFOUND, "no violation %q", id)
			}
			return v.SellerID, err
		})
		if err != nil {
			return err
		}
		if v.WithdrawnAt != nil {
			return standing.Errorf(standing.ECONFLICT, "violation %s was withdrawn already, on %s", v.ID, standing.FormatTime(*v.WithdrawnAt))
		}
		ok, err := changedRows(t.exec("UPDATE seller_violations SET withdrawn_at = ?, withdrawn_by = ?, withdraw_note = ? WHERE id = ? AND withdrawn_at IS NULL",
			ts(t.now), w.Actor, w.Note, v.ID))
		if err != nil {
			return err
		} else if !ok {
			return standing.Errorf(standing.ECONFLICT, "violation %s was withdrawn by another request at the same moment", v.ID)
		}
		now := t.now
		v.WithdrawnAt, v.WithdrawnBy, v.WithdrawNote = &now, w.Actor, w.Note
		if w.LiftSanctions {
			rows, err := t.query("SELECT "+prefixed("r.", restrictionColumns)+` FROM seller_sanctions s
				JOIN restrictions r ON r.id = s.restriction_id WHERE s.violation_id = ? AND r.state = 'active'`, v.ID)
			if err != nil {
				return err
			}
			var active []standing.Restriction
			for rows.Next() {
				r, err := scanRestriction(rows)
				if err != nil {
					rows.Close()
					return err
				}
				active = append(active, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range active {
				ended, ok, err := t.endActive(r, standing.RestrictionLifted, w.Actor, "Violation "+v.ID+" withdrawn: "+w.Note)
				if err != nil {
					return err
				}
				if ok {
					lifted = append(lifted, ended)
				}
			}
		}
		if err := t.audit(standing.AuditEntry{AccountID: v.SellerID, Actor: w.Actor, Action: standing.AuditViolationWithdrawn,
			SubjectID: v.ID, Reason: v.Type, Personal: w.Note}); err != nil {
			return err
		}
		text := fmt.Sprintf("Hello,\n\nThe violation recorded against your store on %s (%s%s) was withdrawn: %s\nIts %s no longer count.",
			standing.FormatTime(v.At), v.Type, caseWords(v.CaseID), w.Note, pluralWord(v.Points, "point"))
		if len(lifted) > 0 {
			text += " The sanctions it brought were lifted."
		}
		text += "\n\nYour seller dashboard: " + t.s.baseURL + "/seller\n"
		out = v
		return t.mailSeller(a, "seller_violation_withdrawn", "A violation against your store was withdrawn", text)
	})
	return out, lifted, err
}

func caseWords(caseID string) string {
	if caseID == "" {
		return ""
	}
	return ", case " + caseID
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// RecordFine records a fine against a seller for the marketplace to collect, with the
// seller.fined webhook, a dashboard line and a mail. EINVALID names the field (a buyer
// account is field seller_id); ECONFLICT (field case_id) for a case fined before.
func (s *Store) RecordFine(ctx context.Context, sellerID string, n penalty.NewFine, actor string) (penalty.Fine, error) {
	if err := n.Validate(); err != nil {
		return penalty.Fine{}, err
	}
	var out penalty.Fine
	err := s.write(ctx, func(t *tx) error {
		a, err := t.sellerAccount("seller_id", sellerID)
		if err != nil {
			return err
		}
		if err := requireSeller(a, "seller_id", "fines"); err != nil {
			return err
		}
		if n.ViolationID != "" {
			var owner string
			err := t.queryRow("SELECT seller_id FROM seller_violations WHERE id = ?", n.ViolationID).Scan(&owner)
			if err == sql.ErrNoRows || (err == nil && owner != a.ID) {
				return standing.FieldErrorf(standing.EINVALID, "violation_id", "seller %s has no violation %q", a.ID, n.ViolationID)
			} else if err != nil {
				return err
			}
		}
		out, err = t.addFine(a, n, actor)
		return err
	})
	return out, err
}

// addFine writes a fine with its webhook, dashboard line, mail and audit entry.
func (t *tx) addFine(a standing.Account, n penalty.NewFine, actor string) (penalty.Fine, error) {
	f := penalty.Fine{ID: standing.NewID("fin", t.now), SellerID: a.ID, Amount: n.Amount, Currency: n.Currency, Reason: n.Reason,
		ViolationID: n.ViolationID, CaseID: n.CaseID, Actor: actor, CreatedAt: t.now}
	key := penalty.FineKey(a.ID, n.CaseID)
	if key != "" {
		var first string
		var created int64
		err := t.queryRow("SELECT id, created_at FROM seller_fines WHERE dedupe_key = ?", key).Scan(&first, &created)
		if err == nil {
			return f, standing.FieldErrorf(standing.ECONFLICT, "case_id", "case %q was fined on %s (fine %s); nothing was recorded again", n.CaseID, standing.FormatTime(fromTS(created)), first)
		} else if err != sql.ErrNoRows {
			return f, err
		}
	}
	_, err := t.exec(`INSERT INTO seller_fines (id, seller_id, amount, currency, reason, violation_id, case_id, dedupe_key, actor, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.ID, f.SellerID, f.Amount, f.Currency, f.Reason, f.ViolationID, f.CaseID,
		nullString(key), f.Actor, ts(f.CreatedAt))
	if isUnique(err) {
		return f, standing.FieldErrorf(standing.ECONFLICT, "case_id", "case %q was fined at the same moment by another request", n.CaseID)
	} else if err != nil {
		return f, err
	}
	// Ids, amounts and codes only: the reason is free text an operator may have written
	// personal data into; the marketplace reads it with GET /v1/sellers/{id}/standing.
	data := map[string]any{"account_id": a.ID, "fine_id": f.ID, "amount": f.Amount, "currency": f.Currency}
	if f.ViolationID != "" {
		data["violation_id"] = f.ViolationID
	}
	if f.CaseID != "" {
		data["case_id"] = f.CaseID
	}
	if err := t.emit(standing.WebhookSellerFined, a.ID, data); err != nil {
		return f, err
	}
	if err := t.audit(standing.AuditEntry{AccountID: a.ID, Actor: actor, Action: standing.AuditSellerFined, SubjectID: f.ID,
		Reason: f.Words()}); err != nil {
		return f, err
	}
	_, err = t.addNotice(a, noticeRow{kind: penalty.NoticeFine, state: penalty.NoticeGiven, violationID: f.ViolationID,
		text: fmt.Sprintf("A fine of %s was recorded: %s The marketplace collects it from your balance or invoices it.", f.Words(), f.Reason)},
		"A fine of "+f.Words()+" was recorded")
	return f, err
}

const feeColumns = `id, seller_id, COALESCE(external_id, ''), description, amount, currency, due_at, grace_ends_at, paid_at,
	payment_ref, restriction_id, created_at`

func scanFee(row interface{ Scan(...any) error }, now time.Time) (penalty.Fee, error) {
	var f penalty.Fee
	var due, grace, created int64
	var paid sql.NullInt64
	err := row.Scan(&f.ID, &f.SellerID, &f.ExternalID, &f.Description, &f.Amount, &f.Currency, &due, &grace, &paid,
		&f.PaymentRef, &f.RestrictionID, &created)
	f.DueAt, f.GraceEndsAt, f.PaidAt, f.CreatedAt = fromTS(due), fromTS(grace), fromNullTS(paid), fromTS(created)
	f.State = f.StateAt(now)
	return f, err
}

// RecordFee records a platform fee a seller owes, with a durable job at the end of its
// grace period (due_at + seller.fee_grace): unpaid then, it pauses listing products and
// receiving orders until it is reported paid. EINVALID names the field; ECONFLICT (field
// external_id) for an external id used before.
func (s *Store) RecordFee(ctx context.Context, sellerID string, n penalty.NewFee, actor string) (penalty.Fee, error) {
	if err := n.Validate(s.clock.Now()); err != nil {
		return penalty.Fee{}, err
	}
	var out penalty.Fee
	err := s.write(ctx, func(t *tx) error {
		a, err := t.sellerAccount("seller_id", sellerID)
		if err != nil {
			return err
		}
		if err := requireSeller(a, "seller_id", "platform fees"); err != nil {
			return err
		}
		if n.ExternalID != "" {
			var other string
			err := t.queryRow("SELECT id FROM seller_fees WHERE external_id = ?", n.ExternalID).Scan(&other)
			if err == nil {
				return standing.FieldErrorf(standing.ECONFLICT, "external_id", "fee %s already has the external_id %q", other, n.ExternalID)
			} else if err != sql.ErrNoRows {
				return err
			}
		}
		f := penalty.Fee{ID: standing.NewID("fee", t.now), SellerID: a.ID, ExternalID: n.ExternalID, Description: n.Description,
			Amount: n.Amount, Currency: n.Currency, DueAt: n.DueAt, GraceEndsAt: n.DueAt.Add(t.s.policy().Seller.FeeGrace.D()), CreatedAt: t.now}
		f.State = f.StateAt(t.now)
		_, err = t.exec(`INSERT INTO seller_fees (id, seller_id, external_id, description, amount, currency, due_at, grace_ends_at,
			actor, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.ID, f.SellerID, nullString(f.ExternalID),
			f.Description, f.Amount, f.Currency, ts(f.DueAt), ts(f.GraceEndsAt), actor, ts(t.now), ts(t.now))
		if isUnique(err) {
			return standing.FieldErrorf(standing.ECONFLICT, "external_id", "another fee took the external_id %q at the same moment", n.ExternalID)
		} else if err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]string{"fee_id": f.ID})
		if err := t.enqueue(jobs.Job{Kind: JobSellerFeeOverdue, DedupeKey: "seller.fee:" + f.ID, Payload: payload, RunAt: f.GraceEndsAt}); err != nil {
			return err
		}
		if err := t.audit(standing.AuditEntry{AccountID: a.ID, Actor: actor, Action: standing.AuditSellerFee, SubjectID: f.ID,
			Reason: feeAmount(f), Personal: f.Description}); err != nil {
			return err
		}
		text := fmt.Sprintf("Hello,\n\nA platform fee %s is due on %s. If it is not paid by %s, listing products and receiving orders pause until the payment is reported.\n\nYour seller dashboard: %s/seller\n",
			f.Words(), standing.FormatTime(f.DueAt), standing.FormatTime(f.GraceEndsAt), t.s.baseURL)
		out = f
		return t.mailSeller(a, "seller_fee", "Platform fee due on "+standing.FormatTime(f.DueAt), text)
	})
	return out, err
}

// feeForUpdate reads a fee by id or external id in a write transaction, with its seller's
// account locked.
func (t *tx) feeForUpdate(ref string) (penalty.Fee, standing.Account, error) {
	var f penalty.Fee
	a, err := t.lockAccountOf(func() (string, error) {
		var err error
		f, err = scanFee(t.queryRow("SELECT "+feeColumns+" FROM seller_fees WHERE id = ?", ref), t.now)
		if err == sql.ErrNoRows {
			f, err = scanFee(t.queryRow("SELECT "+feeColumns+" FROM seller_fees WHERE external_id = ?", ref), t.now)
		}
		if err == sql.ErrNoRows {
			return "", standing.Errorf(standing.ENOTFOUND, "no fee %q", ref)
		}
		return f.SellerID, err
	})
	return f, a, err
}

// PayFee records that a fee was paid and lifts the pause it brought. ENOTFOUND for an
// unknown fee (id or external id), ECONFLICT when it was reported paid already.
func (s *Store) PayFee(ctx context.Context, ref string, pay penalty.FeePayment) (penalty.Fee, error) {
	if err := pay.Validate(s.clock.Now()); err != nil {
		return penalty.Fee{}, err
	}
	if pay.Actor == "" {
		pay.Actor = "api"
	}
	var out penalty.Fee
	err := s.write(ctx, func(t *tx) error {
		f, _, err := t.feeForUpdate(ref)
		if err != nil {
			return err
		}
		if f.PaidAt != nil {
			return standing.Errorf(standing.ECONFLICT, "fee %s was reported paid already, on %s", f.ID, standing.FormatTime(*f.PaidAt))
		}
		ok, err := changedRows(t.exec("UPDATE seller_fees SET paid_at = ?, payment_ref = ?, updated_at = ? WHERE id = ? AND paid_at IS NULL",
			ts(pay.PaidAt), pay.Reference, ts(t.now), f.ID))
		if err != nil {
			return err
		} else if !ok {
			return standing.Errorf(standing.ECONFLICT, "fee %s was reported paid by another request at the same moment", f.ID)
		}
		if err := t.cancelJobs("seller.fee:" + f.ID); err != nil {
			return err
		}
		if f.RestrictionID != "" {
			r, err := scanRestriction(t.queryRow("SELECT "+restrictionColumns+" FROM restrictions WHERE id = ?", f.RestrictionID))
			if err != nil {
				return err
			}
			if r.State == standing.RestrictionActive {
				if _, _, err := t.endActive(r, standing.RestrictionLifted, pay.Actor, "Platform fee "+f.ID+" paid."); err != nil {
					return err
				}
			}
		}
		if err := t.audit(standing.AuditEntry{AccountID: f.SellerID, Actor: pay.Actor, Action: standing.AuditSellerFeePaid, SubjectID: f.ID,
			Reason: feeAmount(f), Personal: f.Description}); err != nil {
			return err
		}
		f.PaidAt, f.PaymentRef = &pay.PaidAt, pay.Reference
		f.State = f.StateAt(t.now)
		out = f
		return nil
	})
	return out, err
}

// EnforceFee runs at a fee's grace deadline (the seller.fee_overdue job): a fee still
// unpaid then pauses listing products and receiving orders, with a dashboard line. It is
// idempotent: a paid fee, one that restricted already, or a job that runs early does
// nothing.
func (s *Store) EnforceFee(ctx context.Context, feeID string) error {
	return s.write(ctx, func(t *tx) error {
		f, a, err := t.feeForUpdate(feeID)
		if standing.ErrorCode(err) == standing.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if f.PaidAt != nil || f.RestrictionID != "" || t.now.Before(f.GraceEndsAt) {
			return nil
		}
		if a.Lifecycle == standing.LifecycleErased {
			return nil
		}
		st, err := t.standing(a.ID)
		if err != nil {
			return err
		}
		r, err := t.restrict(a, &st, *penalty.FeeRestriction(f))
		if err != nil {
			return err
		}
		if _, err := t.exec("UPDATE seller_fees SET restriction_id = ?, updated_at = ? WHERE id = ?", r.ID, ts(t.now), f.ID); err != nil {
			return err
		}
		if err := t.addSanction(sanctionRow{sellerID: a.ID, feeID: f.ID, kind: "fee", reason: "unpaid platform fee " + f.Words(), restrictionID: r.ID}); err != nil {
			return err
		}
		_, err = t.exec(`INSERT INTO seller_notices (id, seller_id, kind, state, issued_at, effective_at, text, restriction_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, standing.NewID("ntc", t.now), a.ID, penalty.NoticeFeeOverdue, penalty.NoticeGiven,
			ts(t.now), ts(t.now), r.Message, r.ID, ts(t.now))
		return err
	})
}

// ApplyClosure runs when an EU closure notice takes effect (the seller.closure job). The
// closure is carried out if it is still due: the restriction that stood for the notice was
// not lifted (an appeal overturned it) and the violation that brought it still counts
// (penalty.ClosureStillDue). Otherwise the notice is cancelled and the seller told. It is
// idempotent.
func (s *Store) ApplyClosure(ctx context.Context, noticeID string) error {
	return s.write(ctx, func(t *tx) error {
		var sellerID, state, payload, noticeRID string
		a, err := t.lockAccountOf(func() (string, error) {
			err := t.queryRow("SELECT seller_id, state, payload, restriction_id FROM seller_notices WHERE id = ? AND kind = ?", noticeID, penalty.NoticeClosure).
				Scan(&sellerID, &state, &payload, &noticeRID)
			return sellerID, err
		})
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		if state != penalty.NoticePending {
			return nil
		}
		var n penalty.Notice
		if err := json.Unmarshal([]byte(payload), &n); err != nil {
			return jobs.Permanent{Err: fmt.Errorf("closure notice %s: %w", noticeID, err)}
		}
		var held *standing.Restriction // the restriction that stood for the notice
		if noticeRID != "" {
			r, err := scanRestriction(t.queryRow("SELECT "+restrictionColumns+" FROM restrictions WHERE id = ?", noticeRID))
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			if err == nil {
				held = &r
			}
		}
		rec, err := t.sellerRecord(sellerID)
		if err != nil {
			return err
		}
		why := ""
		switch {
		case a.Lifecycle == standing.LifecycleErased:
			why = "erased"
		case held != nil && held.State == standing.RestrictionLifted:
			why = "the notice was lifted (" + held.EndedBy + "): " + held.EndNote
		case !penalty.ClosureStillDue(t.s.policy(), rec.Violations, n):
			why = "the violation that brought it no longer counts"
		}
		if why != "" {
			if _, err := t.exec("UPDATE seller_notices SET state = ? WHERE id = ?", penalty.NoticeCancelled, noticeID); err != nil {
				return err
			}
			if a.Lifecycle == standing.LifecycleErased {
				return nil
			}
			if held != nil && held.State == standing.RestrictionActive {
				if _, _, err := t.endActive(*held, standing.RestrictionLifted, "penalty", "Closure cancelled: "+why+"."); err != nil {
					return err
				}
			}
			_, err := t.addNotice(a, noticeRow{kind: penalty.NoticeClosureCancelled, state: penalty.NoticeGiven, ledger: n.Ledger,
				violationID: n.ViolationID, text: fmt.Sprintf("The closure of your store announced on %s will not happen: %s. Your store keeps selling.",
					standing.FormatTime(n.IssuedAt), closureCancelWords(held, why))}, "The announced closure of your store is cancelled")
			return err
		}
		if held != nil && held.State == standing.RestrictionActive {
			if _, _, err := t.endActive(*held, standing.RestrictionExpired, "penalty", "The notice period ended; the closure took effect."); err != nil {
				return err
			}
		}
		st, err := t.standing(a.ID)
		if err != nil {
			return err
		}
		rid := closedBy(&st, t.now)
		if rid == "" {
			nr := n.Restriction()
			if nr == nil {
				return jobs.Permanent{Err: fmt.Errorf("closure notice %s carries no closure", noticeID)}
			}
			r, err := t.restrict(a, &st, *nr)
			if err != nil {
				return err
			}
			rid = r.ID
		}
		if err := t.addSanction(sanctionRow{sellerID: a.ID, violationID: n.ViolationID, ledger: n.Ledger, kind: penalty.KindClosure,
			trigger: n.Sanction.Trigger, level: n.Sanction.Level, reason: n.Sanction.Reason, restrictionID: rid}); err != nil {
			return err
		}
		_, err = t.exec("UPDATE seller_notices SET state = ?, restriction_id = ? WHERE id = ?", penalty.NoticeApplied, rid, noticeID)
		return err
	})
}

func closureCancelWords(held *standing.Restriction, why string) string {
	if held != nil && held.State == standing.RestrictionLifted {
		if strings.HasPrefix(held.EndedBy, "reviewer:") || strings.Contains(held.EndNote, "appeal") {
			return "your appeal against it succeeded"
		}
		return "a reviewer lifted it"
	}
	return why
}

// SellerStanding returns everything the seller dashboard shows; ENOTFOUND for an unknown
// account, EINVALID for a buyer account.
func (s *Store) SellerStanding(ctx context.Context, sellerID string) (penalty.SellerStanding, error) {
	p := s.policy()
	now := s.clock.Now()
	out := penalty.SellerStanding{SellerID: sellerID, At: now, PerformanceWarnings: []penalty.PerfWarning{},
		Sanctions: []penalty.ActiveSanction{}, Fines: []penalty.Fine{}, Fees: []penalty.Fee{}, Notices: []penalty.NoticeLine{}}
	a, err := s.Account(ctx, sellerID)
	if err != nil {
		return out, err
	}
	if a.Role != standing.RoleSeller {
		return out, standing.Errorf(standing.EINVALID, "account %s is a %s account; seller standing (points, performance, sanctions) applies only to seller accounts", a.ID, a.Role)
	}
	// One read transaction: a consistent view of the seller's records.
	rtx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return out, translate(err)
	}
	defer rtx.Rollback()
	query := func(q string, args ...any) (*sql.Rows, error) { return rtx.QueryContext(ctx, s.q(q), args...) }
	each := func(q string, args []any, fn func(rows *sql.Rows) error) error {
		rows, err := query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	var violations []penalty.Violation
	if err := each("SELECT "+violationColumns+" FROM seller_violations WHERE seller_id = ? AND withdrawn_at IS NULL ORDER BY at, id", []any{a.ID},
		func(rows *sql.Rows) error {
			v, err := scanViolation(rows)
			violations = append(violations, v)
			return err
		}); err != nil {
		return out, translate(err)
	}
	out.Points = penalty.Standing(p, violations, now)

	from, to := penalty.WindowDays(p, now)
	var perf penalty.PerfState
	if err := each("SELECT day, orders, defects, shipped, late, cancelled FROM seller_perf_days WHERE seller_id = ? AND day >= ? AND day <= ? ORDER BY day",
		[]any{a.ID, from, to}, func(rows *sql.Rows) error {
			var d penalty.DayCounts
			err := rows.Scan(&d.Day, &d.Orders, &d.Defects, &d.Shipped, &d.Late, &d.Cancelled)
			perf.Days = append(perf.Days, d)
			return err
		}); err != nil {
		return out, translate(err)
	}
	out.Performance = perf.Metrics(p, now)
	out.Chart = perf.Series(p, now)
	if err := each("SELECT metric, at, grace_ends_at, rate, threshold, message, cleared_at FROM seller_perf_warnings WHERE seller_id = ? AND (cleared_at IS NULL OR at >= ?) ORDER BY at DESC, id DESC",
		[]any{a.ID, ts(out.Performance.From)}, func(rows *sql.Rows) error {
			w, err := scanPerfWarning(rows)
			out.PerformanceWarnings = append(out.PerformanceWarnings, w)
			return err
		}); err != nil {
		return out, translate(err)
	}

	titles := map[string]string{}
	for _, l := range p.Seller.Ledgers {
		titles[l.Name] = l.Title
	}
	if err := each("SELECT "+prefixed("r.", restrictionColumns)+`, COALESCE(s.kind, ''), COALESCE(s.ledger, ''), COALESCE(s.violation_id, ''), COALESCE(s.fee_id, '')
		FROM restrictions r LEFT JOIN seller_sanctions s ON s.restriction_id = r.id
		WHERE r.account_id = ? AND r.state = 'active' AND r.reason_code = ? ORDER BY r.created_at DESC, r.id DESC`,
		[]any{a.ID, standing.ReasonSellerViolation}, func(rows *sql.Rows) error {
			var r standing.Restriction
			var removes int64
			var appealable, starts, created int64
			var ends, ended sql.NullInt64
			var kind, ledger, violationID, feeID string
			if err := rows.Scan(&r.ID, &r.AccountID, &r.ReasonCode, &r.Title, &removes, &r.Source, &r.Actor, &r.Note,
				&r.Severity, &appealable, &r.Message, &r.Remedy, &starts, &ends, &r.State, &ended, &r.EndedBy,
				&r.EndNote, &r.RuleID, &r.OrderID, &created, &kind, &ledger, &violationID, &feeID); err != nil {
				return err
			}
			r.Removes, r.Appealable = standing.CapabilitySet(removes), appealable != 0
			r.StartsAt, r.EndsAt = fromTS(starts), fromNullTS(ends)
			if !r.ActiveAt(now) {
				return nil // ended by time; the expiry sweep marks it soon
			}
			for _, have := range out.Sanctions {
				if have.RestrictionID == r.ID {
					return nil
				}
			}
			if kind == "" {
				kind = sanctionKindOf(r)
			}
			as := penalty.ActiveSanction{RestrictionID: r.ID, Kind: kind, Ledger: ledger, LedgerTitle: titles[ledger],
				ViolationID: violationID, FeeID: feeID, Title: r.Title, Message: r.Message, Removes: r.Removes,
				StartsAt: r.StartsAt, EndsAt: r.EndsAt, Appealable: r.Appealable}
			if r.Appealable {
				as.AppealURL = s.baseURL + "/appeals/new?restriction=" + r.ID
			}
			out.Sanctions = append(out.Sanctions, as)
			return nil
		}); err != nil {
		return out, translate(err)
	}
	if err := each(`SELECT id, seller_id, amount, currency, reason, violation_id, case_id, actor, created_at FROM seller_fines
		WHERE seller_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT 100`,
		[]any{a.ID, ts(now.Add(-p.Seller.PointLifetime.D()))}, func(rows *sql.Rows) error {
			var f penalty.Fine
			var created int64
			err := rows.Scan(&f.ID, &f.SellerID, &f.Amount, &f.Currency, &f.Reason, &f.ViolationID, &f.CaseID, &f.Actor, &created)
			f.CreatedAt = fromTS(created)
			out.Fines = append(out.Fines, f)
			return err
		}); err != nil {
		return out, translate(err)
	}
	if err := each("SELECT "+feeColumns+" FROM seller_fees WHERE seller_id = ? AND (paid_at IS NULL OR paid_at >= ?) ORDER BY due_at DESC, id DESC LIMIT 100",
		[]any{a.ID, ts(now.Add(-p.Seller.PointLifetime.D()))}, func(rows *sql.Rows) error {
			f, err := scanFee(rows, now)
			out.Fees = append(out.Fees, f)
			return err
		}); err != nil {
		return out, translate(err)
	}
	if err := each(`SELECT id, kind, state, ledger, violation_id, issued_at, effective_at, text FROM seller_notices
		WHERE seller_id = ? AND (issued_at >= ? OR state = ?) ORDER BY issued_at DESC, id DESC LIMIT 100`,
		[]any{a.ID, ts(now.Add(-p.Seller.PointLifetime.D())), penalty.NoticePending}, func(rows *sql.Rows) error {
			var n penalty.NoticeLine
			var issued, eff int64
			err := rows.Scan(&n.ID, &n.Kind, &n.State, &n.Ledger, &n.ViolationID, &issued, &eff, &n.Text)
			n.IssuedAt, n.EffectiveAt = fromTS(issued), fromTS(eff)
			out.Notices = append(out.Notices, n)
			return err
		}); err != nil {
		return out, translate(err)
	}
	return out, nil
}

// feeAmount is what an audit entry of a fee says in its chained reason: the amount. The
// description is free text the marketplace wrote (it may name the seller), so it goes in
// the entry's personal data, which an erasure clears without breaking the chain.
func feeAmount(f penalty.Fee) string {
	return standing.Money{Currency: f.Currency, Amount: f.Amount}.String()
}

// sanctionKindOf names a seller_violation restriction made outside the penalty logic (by a
// reviewer through the API) from what it removes; a closure is what penalty.IsClosure says.
func sanctionKindOf(r standing.Restriction) string {
	switch {
	case penalty.IsClosure(r):
		return penalty.KindClosure
	case r.Removes == standing.CapSet(standing.CapListProducts):
		return penalty.KindListingLimit
	}
	return penalty.KindSuspension
}

func scanPerfWarning(row interface{ Scan(...any) error }) (penalty.PerfWarning, error) {
	var w penalty.PerfWarning
	var at, grace int64
	var cleared sql.NullInt64
	err := row.Scan(&w.Metric, &at, &grace, &w.Rate, &w.Threshold, &w.Message, &cleared)
	w.At, w.GraceEndsAt, w.ClearedAt = fromTS(at), fromTS(grace), fromNullTS(cleared)
	return w, err
}
