package standing

import "time"

// Session is a signed-in browser or app. Only the SHA-256 of its token is stored (ID).
type Session struct {
	ID         string     `json:"-"`
	AccountID  string     `json:"account_id"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	IP         string     `json:"-"`
	UserAgent  string     `json:"-"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Token is a one-time secret sent by mail: an email confirmation (link and 6-digit code)
// or a password reset link. Only hashes of the secret and code are stored.
type Token struct {
	ID           string
	AccountID    string
	Kind         string
	SecretHash   string
	CodeHash     string
	Attempts     int
	CreatedAt    time.Time
	ExpiresAt    time.Time
	UsedAt       *time.Time
	SupersededAt *time.Time
}

// Token kinds.
const (
	TokenVerify = "verify"
	TokenReset  = "reset"
)
