package sqlstore

import (
	"context"
	"database/sql"
	"strconv"

	"standing"
)

// audit appends an entry to the hash chain. The chain head is read once per transaction
// (locked on PostgreSQL, so concurrent writers append one after another) and written back
// before commit.
func (t *tx) audit(e standing.AuditEntry) error {
	if !t.auditLoaded {
		q := "SELECT seq, hash FROM audit_head WHERE id = 1"
		if t.s.dialect == Postgres {
			q += " FOR UPDATE"
		}
		if err := t.queryRow(q).Scan(&t.auditSeq, &t.auditHash); err != nil {
			return err
		}
		t.auditLoaded = true
	}
	e.Seq = t.auditSeq + 1
	e.ID = standing.NewID("aud", t.now)
	e.At = t.now
	e.PrevHash = t.auditHash
	e.SealPersonal()
	e.Hash = e.ComputeHash(e.PrevHash)
	_, err := t.exec(`INSERT INTO audit_log (seq, id, at, account_id, actor, action, subject_id, reason,
		before_state, after_state, personal, personal_salt, personal_hash, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, ts(e.At), e.AccountID, e.Actor, e.Action, e.SubjectID, e.Reason, e.Before, e.After,
		e.Personal, e.PersonalSalt, e.PersonalHash, e.PrevHash, e.Hash)
	if err != nil {
		return err
	}
	t.auditSeq, t.auditHash, t.auditDirty = e.Seq, e.Hash, true
	return nil
}

// flushAudit writes the chain head back; write calls it before commit.
func (t *tx) flushAudit() error {
	if !t.auditDirty {
		return nil
	}
	_, err := t.exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", t.auditSeq, t.auditHash)
	return err
}

const auditColumns = `seq, id, at, account_id, actor, action, subject_id, reason, before_state, after_state,
	personal, personal_salt, personal_hash, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (standing.AuditEntry, error) {
	var e standing.AuditEntry
	var at int64
	err := row.Scan(&e.Seq, &e.ID, &at, &e.AccountID, &e.Actor, &e.Action, &e.SubjectID, &e.Reason, &e.Before,
		&e.After, &e.Personal, &e.PersonalSalt, &e.PersonalHash, &e.PrevHash, &e.Hash)
	e.At = fromTS(at)
	return e, err
}

// Timeline returns the account's audit entries, oldest first, after seq afterSeq.
func (s *Store) Timeline(ctx context.Context, accountID string, afterSeq int64, limit int) ([]standing.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.query(ctx, "SELECT "+auditColumns+" FROM audit_log WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?", accountID, afterSeq, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.AuditEntry{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

// VerifyAudit walks the whole chain in pages and returns the number of entries and the
// first problem: an edited row, a missing row, or a chain head that does not match.
func (s *Store) VerifyAudit(ctx context.Context) (int64, *standing.AuditProblem, error) {
	var prevHash string
	var prevSeq, n int64
	for {
		rows, err := s.query(ctx, "SELECT "+auditColumns+" FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 5000", prevSeq)
		if err != nil {
			return n, nil, translate(err)
		}
		var page []standing.AuditEntry
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return n, nil, translate(err)
			}
			page = append(page, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, nil, translate(err)
		}
		if p := standing.VerifyChain(page, prevHash, prevSeq); p != nil {
			return n, p, nil
		}
		n += int64(len(page))
		if len(page) == 0 {
			break
		}
		last := page[len(page)-1]
		prevHash, prevSeq = last.Hash, last.Seq
	}
	var headSeq int64
	var headHash string
	if err := s.queryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil && err != sql.ErrNoRows {
		return n, nil, translate(err)
	}
	if headSeq != prevSeq || headHash != prevHash {
		return n, &standing.AuditProblem{Seq: prevSeq + 1, Problem: "the chain head is at entry " +
			strconv.FormatInt(headSeq, 10) + " but the log ends at entry " + strconv.FormatInt(prevSeq, 10) + ": entries were removed"}, nil
	}
	return n, nil, nil
}
