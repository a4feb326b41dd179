package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"standing"
	"standing/jobs"
)

// JobSendMail is the job that hands one queued mail to the SMTP sender.
const JobSendMail = "mail.send"

// queueMail writes a mail in the transaction. With an SMTP sender configured it is queued
// and a send job is written with it; without one it is kept in the store, readable in the
// dev mailbox and with `standing mail list`.
func (t *tx) queueMail(m standing.Mail) (standing.Mail, error) {
	m.ID = standing.NewID("mail", t.now)
	m.CreatedAt = t.now
	m.State = standing.MailKept
	if t.s.sendMail {
		m.State = standing.MailQueued
	}
	_, err := t.exec(`INSERT INTO mails (id, account_id, to_addr, kind, subject, body_text, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, nullString(m.AccountID), m.To, m.Kind, m.Subject, m.Text, m.State, ts(m.CreatedAt))
	if err != nil {
		return m, err
	}
	if m.State == standing.MailQueued {
		payload, _ := json.Marshal(map[string]string{"mail_id": m.ID})
		if err := t.enqueue(jobs.Job{Kind: JobSendMail, Payload: payload, MaxAttempts: 40}); err != nil {
			return m, err
		}
	}
	return m, nil
}

const mailColumns = `id, COALESCE(account_id, ''), to_addr, kind, subject, body_text, state, attempts, last_error, created_at, sent_at`

func scanMail(row interface{ Scan(...any) error }) (standing.Mail, error) {
	var m standing.Mail
	var created int64
	var sent sql.NullInt64
	err := row.Scan(&m.ID, &m.AccountID, &m.To, &m.Kind, &m.Subject, &m.Text, &m.State, &m.Attempts, &m.LastError, &created, &sent)
	m.CreatedAt, m.SentAt = fromTS(created), fromNullTS(sent)
	return m, err
}

// Mails returns the newest mails first, to an address if to is not empty.
func (s *Store) Mails(ctx context.Context, to string, limit int) ([]standing.Mail, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows *sql.Rows
	var err error
	if to == "" {
		rows, err = s.query(ctx, "SELECT "+mailColumns+" FROM mails ORDER BY created_at DESC, id DESC LIMIT ?", limit)
	} else {
		rows, err = s.query(ctx, "SELECT "+mailColumns+" FROM mails WHERE to_addr = ? ORDER BY created_at DESC, id DESC LIMIT ?", to, limit)
	}
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Mail{}
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, m)
	}
	return out, translate(rows.Err())
}

// Mail returns one mail; ENOTFOUND if there is none.
func (s *Store) Mail(ctx context.Context, id string) (standing.Mail, error) {
	m, err := scanMail(s.queryRow(ctx, "SELECT "+mailColumns+" FROM mails WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return m, standing.Errorf(standing.ENOTFOUND, "no mail %q", id)
	}
	return m, translate(err)
}

// MailDelivered records the outcome of one send attempt: sent, failed for good, or (with
// a transient error) still queued with the error noted.
func (s *Store) MailDelivered(ctx context.Context, id string, sendErr error, permanent bool) error {
	return s.write(ctx, func(t *tx) error {
		switch {
		case sendErr == nil:
			_, err := t.exec("UPDATE mails SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ? AND state = 'queued'", ts(t.now), id)
			return err
		case permanent:
			_, err := t.exec("UPDATE mails SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'queued'", truncate(sendErr.Error(), 1000), id)
			return err
		default:
			_, err := t.exec("UPDATE mails SET attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'queued'", truncate(sendErr.Error(), 1000), id)
			return err
		}
	})
}
