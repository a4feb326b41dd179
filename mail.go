package standing

import (
	"context"
	"time"
)

// Mail is one message to a person, kept in the store: queued in the same transaction as
// the change that causes it and sent after commit (or, without SMTP, kept for the operator
// and the dev mailbox).
type Mail struct {
	ID        string     `json:"id"`
	AccountID string     `json:"account_id,omitempty"`
	To        string     `json:"to"`
	Kind      string     `json:"kind"` // verify, reset, restriction, appeal_decision, …
	Subject   string     `json:"subject"`
	Text      string     `json:"text"`
	State     string     `json:"state"` // queued | sent | kept | failed | suppressed
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Mail states.
const (
	MailQueued     = "queued"     // waiting for the SMTP sender
	MailSent       = "sent"       // accepted by the SMTP server
	MailKept       = "kept"       // no SMTP configured: kept in the store (dev mailbox, `standing mail list`)
	MailFailed     = "failed"     // the server refused it for good
	MailSuppressed = "suppressed" // not sent: the account was erased
)

// MailReader lists stored mail.
type MailReader interface {
	// Mails returns the newest mails first, to a given address if to is not empty.
	Mails(ctx context.Context, to string, limit int) ([]Mail, error)
	// Mail returns one mail; ENOTFOUND if there is none.
	Mail(ctx context.Context, id string) (Mail, error)
}
