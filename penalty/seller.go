package penalty

import (
	"fmt"
	"strings"
	"time"

	"standing"
)

// More notice kinds: the lines of the seller dashboard besides the EU notices.
const (
	// NoticePerformance is a warning about a breached performance standard.
	NoticePerformance = "performance"
	// NoticeFeeOverdue says selling is paused because a platform fee is unpaid.
	NoticeFeeOverdue = "fee_overdue"
	// NoticeFine says a fine was recorded.
	NoticeFine = "fine"
	// NoticeClosureCancelled says an announced closure will not happen.
	NoticeClosureCancelled = "closure_cancelled"
)

// Fine is a fine recorded against a seller: a ledger entry the marketplace collects (it
// learns of it from the seller.fined webhook). Standing records it and shows it; it moves
// no money.
type Fine struct {
	ID       string `json:"id"`
	SellerID string `json:"seller_id"`
	// Amount is in minor units of Currency (cents).
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Reason   string `json:"reason"`
	// ViolationID is the violation whose points brought the fine, if any.
	ViolationID string    `json:"violation_id,omitempty"`
	CaseID      string    `json:"case_id,omitempty"`
	Actor       string    `json:"actor"`
	CreatedAt   time.Time `json:"created_at"`
}

// Words says the fine in plain words: "USD 25.00".
func (f Fine) Words() string { return standing.Money{Currency: f.Currency, Amount: f.Amount}.String() }

// NewFine is a request to record a fine. Reports of the same case_id against one seller
// are one fine.
type NewFine struct {
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Reason      string `json:"reason"`
	ViolationID string `json:"violation_id,omitempty"`
	CaseID      string `json:"case_id,omitempty"`
}

// Validate checks and normalises the fine; errors are EINVALID and name the field.
func (n *NewFine) Validate() error {
	if n.Amount <= 0 || n.Amount > standing.MaxAmount {
		return standing.FieldErrorf(standing.EINVALID, "amount", "amount is in minor units (cents) and must be from 1 to %d, not %d", int64(standing.MaxAmount), n.Amount)
	}
	cur, err := standing.NormalizeCurrency(n.Currency)
	if err != nil {
		return err
	}
	n.Currency = cur
	n.Reason = strings.TrimSpace(n.Reason)
	if n.Reason == "" {
		return standing.FieldErrorf(standing.EINVALID, "reason", "reason is required: the seller reads it on the dashboard")
	}
	if len(n.Reason) > standing.MaxNoteLen {
		return standing.FieldErrorf(standing.EINVALID, "reason", "reason is longer than %d characters", standing.MaxNoteLen)
	}
	n.CaseID = strings.TrimSpace(n.CaseID)
	if len(n.CaseID) > MaxCaseIDLen || strings.ContainsFunc(n.CaseID, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return standing.FieldErrorf(standing.EINVALID, "case_id", "case_id is at most %d printable characters", MaxCaseIDLen)
	}
	n.ViolationID = strings.TrimSpace(n.ViolationID)
	return nil
}

// FineKey returns the deduplication key of a fine in case caseID against sellerID, "" when
// there is no case (see Key).
func FineKey(sellerID, caseID string) string { return Key(sellerID, "\x00fine", caseID) }

// Fee states, as Fee.State reports them at a time.
const (
	FeeDue     = "due"     // not yet due, or due and within its grace period
	FeeOverdue = "overdue" // unpaid past its grace period: selling is paused
	FeePaid    = "paid"
)

// Fee is a platform fee a seller owes (a deposit, a service fee). Unpaid past GraceEndsAt
// (DueAt + seller.fee_grace), it pauses listing products and receiving orders until the
// marketplace reports it paid.
type Fee struct {
	ID          string `json:"id"`
	SellerID    string `json:"seller_id"`
	ExternalID  string `json:"external_id,omitempty"`
	Description string `json:"description"`
	// Amount is in minor units of Currency (cents).
	Amount      int64      `json:"amount"`
	Currency    string     `json:"currency"`
	DueAt       time.Time  `json:"due_at"`
	GraceEndsAt time.Time  `json:"grace_ends_at"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	PaymentRef  string     `json:"payment_ref,omitempty"`
	// RestrictionID is the restriction the unpaid fee brought, once past its grace.
	RestrictionID string    `json:"restriction_id,omitempty"`
	State         string    `json:"state"`
	CreatedAt     time.Time `json:"created_at"`
}

// StateAt returns the fee's state at now: paid, overdue (unpaid at or after GraceEndsAt),
// or due.
func (f Fee) StateAt(now time.Time) string {
	switch {
	case f.PaidAt != nil:
		return FeePaid
	case !now.Before(f.GraceEndsAt):
		return FeeOverdue
	}
	return FeeDue
}

// Words says the fee in plain words: `"Store deposit" of USD 100.00`.
func (f Fee) Words() string {
	return fmt.Sprintf("%q of %s", f.Description, standing.Money{Currency: f.Currency, Amount: f.Amount})
}

// MaxDescriptionLen bounds a fee's description.
const MaxDescriptionLen = 200

// NewFee is a platform fee the marketplace reports as owed by a seller.
type NewFee struct {
	ExternalID  string `json:"external_id,omitempty"`
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	// DueAt is when the fee is due; zero means now.
	DueAt time.Time `json:"due_at,omitzero"`
}

// Validate checks and normalises the fee at now; errors are EINVALID and name the field.
func (n *NewFee) Validate(now time.Time) error {
	n.ExternalID = strings.TrimSpace(n.ExternalID)
	if len(n.ExternalID) > standing.MaxExternalLen {
		return standing.FieldErrorf(standing.EINVALID, "external_id", "external_id is longer than %d characters", standing.MaxExternalLen)
	}
	n.Description = strings.TrimSpace(n.Description)
	if n.Description == "" {
		return standing.FieldErrorf(standing.EINVALID, "description", "description is required: the seller reads it (\"Store deposit\", \"Service fee May 2026\")")
	}
	if len(n.Description) > MaxDescriptionLen {
		return standing.FieldErrorf(standing.EINVALID, "description", "description is longer than %d characters", MaxDescriptionLen)
	}
	if n.Amount <= 0 || n.Amount > standing.MaxAmount {
		return standing.FieldErrorf(standing.EINVALID, "amount", "amount is in minor units (cents) and must be from 1 to %d, not %d", int64(standing.MaxAmount), n.Amount)
	}
	cur, err := standing.NormalizeCurrency(n.Currency)
	if err != nil {
		return err
	}
	n.Currency = cur
	if n.DueAt.IsZero() {
		n.DueAt = now
	}
	n.DueAt = n.DueAt.UTC()
	return nil
}

// FeePayment reports a fee paid.
type FeePayment struct {
	// PaidAt is when it was paid; zero means now.
	PaidAt time.Time `json:"paid_at,omitzero"`
	// Reference is the marketplace's payment reference.
	Reference string `json:"reference,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// Validate checks the payment at now; errors are EINVALID and name the field.
func (f *FeePayment) Validate(now time.Time) error {
	if f.PaidAt.IsZero() {
		f.PaidAt = now
	}
	if f.PaidAt.After(now) {
		return standing.FieldErrorf(standing.EINVALID, "paid_at", "paid_at %s is in the future", f.PaidAt.UTC().Format(time.RFC3339))
	}
	f.PaidAt = f.PaidAt.UTC()
	f.Reference = strings.TrimSpace(f.Reference)
	if len(f.Reference) > standing.MaxExternalLen {
		return standing.FieldErrorf(standing.EINVALID, "reference", "reference is longer than %d characters", standing.MaxExternalLen)
	}
	if len(f.Actor) > standing.MaxActorLen {
		return standing.FieldErrorf(standing.EINVALID, "actor", "actor is longer than %d characters", standing.MaxActorLen)
	}
	return nil
}

// FeeRestriction returns the restriction an unpaid fee brings once its grace period is
// over: reason seller_violation, listing products and receiving orders removed, until the
// fee is reported paid (no end).
func FeeRestriction(f Fee) *standing.NewRestriction {
	removes := standing.CapSet(standing.CapListProducts, standing.CapReceiveOrders)
	return &standing.NewRestriction{
		ReasonCode: standing.ReasonSellerViolation,
		Source:     standing.SourceSystem,
		Actor:      "fees",
		Removes:    &removes,
		Message: fmt.Sprintf("Listing products and receiving orders are paused because the platform fee %s, due on %s, was not paid within the grace period that ended on %s. "+
			"Selling resumes as soon as the payment is reported; you can still see your orders, withdraw your funds and receive payouts.",
			f.Words(), standing.FormatTime(f.DueAt), standing.FormatTime(f.GraceEndsAt)),
		Note: fmt.Sprintf("Unpaid platform fee %s (%s).", f.ID, f.Words()),
	}
}

// Recorded is what recording one violation did: the Outcome of Apply and what the store
// made of it — the restrictions its sanctions became, the fines it recorded and the
// dashboard lines it wrote. POST /v1/violations answers with it.
type Recorded struct {
	Outcome
	Restrictions []standing.Restriction `json:"restrictions"`
	Fines        []Fine                 `json:"fines"`
	NoticeLines  []NoticeLine           `json:"notice_lines"`
}

// Withdrawal withdraws a violation reported in error: it stops counting at once.
type Withdrawal struct {
	// Note says why; the seller reads it. Required.
	Note  string `json:"note"`
	Actor string `json:"actor,omitempty"`
	// LiftSanctions also lifts the restrictions the violation's sanctions brought that are
	// still active.
	LiftSanctions bool `json:"lift_sanctions,omitempty"`
}

// SellerStanding is everything the seller dashboard and GET /v1/sellers/{id}/standing
// show about a seller at a time.
type SellerStanding struct {
	SellerID string    `json:"seller_id"`
	At       time.Time `json:"at"`
	// Points are the seller's points per ledger, each entry with the time it falls off.
	Points SellerPoints `json:"points"`
	// Performance is the seller's performance over the window ending at At; Chart has one
	// point per day of the window.
	Performance PerformanceMetrics `json:"performance"`
	Chart       []DayPoint         `json:"chart"`
	// PerformanceWarnings are the open performance warnings and those of the last Window.
	PerformanceWarnings []PerfWarning `json:"performance_warnings"`
	// Sanctions are the seller's active seller_violation restrictions.
	Sanctions []ActiveSanction `json:"sanctions"`
	Fines     []Fine           `json:"fines"`
	Fees      []Fee            `json:"fees"`
	// Notices are the lines of the dashboard, newest first: EU notices, warnings,
	// performance warnings, overdue fees, fines.
	Notices []NoticeLine `json:"notices"`
}

// ActiveSanction is one active sanction of a seller: the restriction that carries it out
// and where it came from.
type ActiveSanction struct {
	RestrictionID string `json:"restriction_id"`
	// Kind is the sanction's kind (suspension, listing_limit, closure), or "fee" for the
	// pause an unpaid fee brings.
	Kind        string                 `json:"kind"`
	Ledger      string                 `json:"ledger,omitempty"`
	LedgerTitle string                 `json:"ledger_title,omitempty"`
	ViolationID string                 `json:"violation_id,omitempty"`
	FeeID       string                 `json:"fee_id,omitempty"`
	Title       string                 `json:"title"`
	Message     string                 `json:"message"`
	Removes     standing.CapabilitySet `json:"removes"`
	StartsAt    time.Time              `json:"starts_at"`
	EndsAt      *time.Time             `json:"ends_at"`
	Appealable  bool                   `json:"appealable"`
	// AppealURL is the page where the seller appeals it.
	AppealURL string `json:"appeal_url,omitempty"`
}

// NoticeLine is one line of the seller dashboard's notices.
type NoticeLine struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// State is given, or for a closure notice pending, applied or cancelled.
	State       string    `json:"state"`
	Ledger      string    `json:"ledger,omitempty"`
	ViolationID string    `json:"violation_id,omitempty"`
	IssuedAt    time.Time `json:"issued_at"`
	EffectiveAt time.Time `json:"effective_at"`
	Text        string    `json:"text"`
}

// Notice line states.
const (
	NoticeGiven     = "given"
	NoticePending   = "pending"
	NoticeApplied   = "applied"
	NoticeCancelled = "cancelled"
)

// ViolationMail returns the subject and text of the mail that tells a seller about a
// violation recorded against them: the points, the ledger total, when the points fall
// off and what comes next. dashboard is the URL of the seller dashboard.
func ViolationMail(p *standing.Policy, o Outcome, sp SellerPoints, dashboard string) (subject, text string) {
	title := o.Violation.Type
	if t, ok := ViolationType(p, o.Violation.Type); ok && t.Title != "" {
		title = t.Title
	}
	subject = "Penalty points for " + lowerFirst(title)
	var b strings.Builder
	b.WriteString("Hello,\n\n")
	fmt.Fprintf(&b, "A violation was recorded against your store: %s", lowerFirst(title))
	if o.Violation.CaseID != "" {
		fmt.Fprintf(&b, " (case %s)", o.Violation.CaseID)
	}
	b.WriteString(".\n")
	if o.CountedPoints != o.RawPoints {
		fmt.Fprintf(&b, "It carries %d points, of which %d count today (at most %d points a day count in %s).\n", o.RawPoints, o.CountedPoints, ledgerCap(p, o.Ledger), lowerFirst(o.LedgerTitle))
	} else {
		fmt.Fprintf(&b, "It carries %s for %s.\n", pluralPoints(o.CountedPoints), lowerFirst(o.LedgerTitle))
	}
	if o.Violation.Note != "" {
		fmt.Fprintf(&b, "Note: %s\n", o.Violation.Note)
	}
	fmt.Fprintf(&b, "These points count until %s and then fall off by themselves.\n", standing.FormatTime(o.Violation.At.Add(p.Seller.PointLifetime.D())))
	for _, l := range sp.Ledgers {
		if l.Ledger != o.Ledger {
			continue
		}
		fmt.Fprintf(&b, "Your points for %s now total %d.", lowerFirst(l.Title), l.Total)
		if o.Strike > 0 {
			fmt.Fprintf(&b, " This case belongs to your %s active strike.", ordinal(o.Strike))
		}
		for _, n := range l.Next {
			fmt.Fprintf(&b, " Next: %s.", n.Words)
		}
		b.WriteString("\n")
	}
	for _, s := range o.Sanctions {
		fmt.Fprintf(&b, "Because %s, this brings %s.\n", s.reason(o.LedgerTitle), s.Words())
	}
	for _, n := range o.Notices {
		switch n.Kind {
		case NoticeClosure:
			fmt.Fprintf(&b, "Because %s, your store will be closed on %s; a separate notice explains how to appeal before then.\n",
				n.Sanction.reason(o.LedgerTitle), standing.FormatTime(n.EffectiveAt))
		case NoticeWarning:
			fmt.Fprintf(&b, "Because %s, this would bring %s; as a first time, you get a warning instead (a separate mail).\n",
				n.Sanction.reason(o.LedgerTitle), n.Sanction.Words())
		}
	}
	fmt.Fprintf(&b, "\nYour seller dashboard shows every point with the day it falls off, and any sanction with an Appeal button: %s\n", dashboard)
	return subject, b.String()
}

func ledgerCap(p *standing.Policy, ledger string) int {
	if l, ok := findLedger(p, ledger); ok {
		return l.DailyCap
	}
	return 0
}

func pluralPoints(n int) string {
	if n == 1 {
		return "1 point"
	}
	return fmt.Sprintf("%d points", n)
}
