package standing

import (
	"strconv"
	"strings"
	"time"
)

// ErasureState is where a deletion request is.
//
//	stateDiagram-v2
//	    [*] --> scheduled: the person (or support) asks; access ends at once
//	    scheduled --> cancelled: restored within the grace period
//	    scheduled --> running: the grace period ends
//	    running --> awaiting_marketplace: Standing's own data is erased
//	    awaiting_marketplace --> done: the marketplace confirms, or its deadline passes
//	    done --> [*]
type ErasureState string

// The erasure states.
const (
	ErasureScheduled           ErasureState = "scheduled"
	ErasureCancelled           ErasureState = "cancelled"
	ErasureRunning             ErasureState = "running"
	ErasureAwaitingMarketplace ErasureState = "awaiting_marketplace"
	ErasureDone                ErasureState = "done"
)

// Erasure is a deletion request and, once it ran, its certificate.
type Erasure struct {
	ID           string       `json:"id"`
	AccountID    string       `json:"account_id"`
	State        ErasureState `json:"state"`
	Reason       string       `json:"reason"`
	RequestedBy  string       `json:"requested_by"` // self, support:<staff>, api:<key>
	Override     string       `json:"override_note,omitempty"`
	RequestedAt  time.Time    `json:"requested_at"`
	ScheduledFor time.Time    `json:"scheduled_for"`
	CancelledAt  *time.Time   `json:"cancelled_at,omitempty"`
	ExecutedAt   *time.Time   `json:"executed_at,omitempty"`
	FinishedAt   *time.Time   `json:"finished_at,omitempty"`
	Forfeited    []Money      `json:"forfeited,omitempty"`
	Certificate  *Certificate `json:"certificate,omitempty"`
}

// Money is an amount in minor units of a currency.
type Money struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// String writes m for people, the currency code first as EU style writes it and the minor
// units as two decimals: "EUR 12.50", "EUR -0.50", "USD 0.05". Marketplaces report every
// amount in its currency's minor unit, so a currency without one (JPY) shows the reported
// units over 100 all the same. It is the one money formatter: words for people about
// wallets, fines and fees all come from here.
func (m Money) String() string {
	sign, n := "", uint64(m.Amount)
	if m.Amount < 0 {
		sign, n = "-", uint64(-(m.Amount+1))+1 // no overflow at math.MinInt64
	}
	minor := strconv.FormatUint(n%100, 10)
	if len(minor) == 1 {
		minor = "0" + minor
	}
	return strings.TrimSpace(m.Currency + " " + sign + strconv.FormatUint(n/100, 10) + "." + minor)
}

// MoneyWords writes amounts for people: "EUR 12.50 and USD 3.00".
func MoneyWords(ms []Money) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, " and ")
}

// Certificate says what an erasure removed where, what it kept and why, and what the
// marketplace confirmed it erased of its own copies.
type Certificate struct {
	Stores      []StoreReport            `json:"stores"`
	Kept        []KeptRecord             `json:"kept"`
	Marketplace *MarketplaceConfirmation `json:"marketplace,omitempty"`
	Forfeited   []Money                  `json:"forfeited,omitempty"`
}

// StoreReport is what was removed from one store.
type StoreReport struct {
	Store   string         `json:"store"`
	Removed map[string]int `json:"removed"`
}

// KeptRecord is a kind of record kept after the erasure, with its legal ground and until
// when.
type KeptRecord struct {
	What  string     `json:"what"`
	Why   string     `json:"why"`
	Until *time.Time `json:"until,omitempty"`
}

// MarketplaceConfirmation is the marketplace's answer to account.erased: what it erased
// of its own copies (reviews, messages, store feedback), or that it did not answer in time.
type MarketplaceConfirmation struct {
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	Erased      []string   `json:"erased,omitempty"`
	Note        string     `json:"note,omitempty"`
	DeadlineAt  time.Time  `json:"deadline_at"`
	TimedOut    bool       `json:"timed_out,omitempty"`
}

// DeletionRequest is a request to delete an account, from its owner's form, the API, or
// support acting on a mail.
type DeletionRequest struct {
	AccountID     string
	ConfirmEmail  string // typed again by the person
	Phrase        string // "Deactivate my account"
	Reason        string // from the policy's list
	ForfeitWallet bool   // the person accepts losing a positive balance
	RequestedBy   string
	// Override skips the preconditions (admins only, with a note saying why).
	Override string
}

// Precondition is one condition of deletion and whether it holds.
type Precondition struct {
	Key     string `json:"key"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	FixURL  string `json:"fix_url,omitempty"`
}
