package penalty

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"standing"
)

// PerformanceBreachType is the violation type of the points that a breached performance
// standard brings (see Evaluate). A policy may define it in seller.violation_types; when
// it does not, ViolationTypes adds it to the PerformanceLedger with
// performance.breach_points points.
const PerformanceBreachType = "performance_breach"

// PerformanceLedger is the ledger performance_breach points go to when the policy does not
// define the type itself: transaction violations, where late shipment and cancellations
// belong.
const PerformanceLedger = "transaction"

// Limits on a violation report; longer or larger input is refused, never cut.
const (
	MaxCaseIDLen   = 200
	MaxPoints      = 10000
	MaxEvidenceLen = 2000
)

// Violation is one recorded seller violation: the points of its type (or the reporter's)
// counted in its ledger for the point lifetime after At.
type Violation struct {
	ID       string `json:"id"`
	SellerID string `json:"seller_id"`
	Type     string `json:"type"`
	// Ledger is the ledger of the type when the violation was recorded; a later policy that
	// moves the type does not move old points.
	Ledger string `json:"ledger"`
	// CaseID names the case on the reporter's side; reports of the same case are one
	// violation. Empty means the report has no case and is never deduplicated.
	CaseID string `json:"case_id,omitempty"`
	// Points are the raw points; a ledger's daily cap may count fewer.
	Points int       `json:"points"`
	At     time.Time `json:"at"`
	// Evidence is the reporter's reference to the evidence (a URL, a document or ticket
	// number); Note is free text for the seller and the reviewers.
	Evidence string `json:"evidence,omitempty"`
	Note     string `json:"note,omitempty"`
	// Actor is who reported it: an API key, a console user, or "performance".
	Actor string `json:"actor,omitempty"`
	// WithdrawnAt is set when the violation was withdrawn (reported in error, or overturned):
	// it no longer counts, and the store leaves it out of the Record it passes to Apply.
	WithdrawnAt  *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawnBy  string     `json:"withdrawn_by,omitempty"`
	WithdrawNote string     `json:"withdraw_note,omitempty"`
}

// Report is a request to record a violation against a seller: what POST /v1/violations
// and the console form carry.
type Report struct {
	SellerID string `json:"seller_id"`
	Type     string `json:"type"`
	CaseID   string `json:"case_id,omitempty"`
	// Points overrides the type's points; nil means the type's points from the policy.
	Points *int `json:"points,omitempty"`
	// Evidence is a reference to the evidence: a URL, a document or ticket number.
	Evidence string `json:"evidence,omitempty"`
	Note     string `json:"note,omitempty"`
	// At is when the violation happened; zero means now.
	At time.Time `json:"at,omitzero"`
}

// ViolationTypes returns the policy's violation types, with performance_breach added on the
// PerformanceLedger when the policy does not define it and has that ledger.
func ViolationTypes(p *standing.Policy) []standing.ViolationType {
	types := p.Seller.ViolationTypes
	for _, t := range types {
		if t.Code == PerformanceBreachType {
			return types
		}
	}
	if _, ok := findLedger(p, PerformanceLedger); !ok {
		return types
	}
	out := make([]standing.ViolationType, 0, len(types)+1)
	out = append(out, types...)
	return append(out, standing.ViolationType{
		Code: PerformanceBreachType, Title: "Seller performance below standard",
		Ledger: PerformanceLedger, Points: p.Performance.BreachPoints,
	})
}

// ViolationType returns the violation type with code, from ViolationTypes.
func ViolationType(p *standing.Policy, code string) (standing.ViolationType, bool) {
	for _, t := range ViolationTypes(p) {
		if t.Code == code {
			return t, true
		}
	}
	return standing.ViolationType{}, false
}

func findLedger(p *standing.Policy, name string) (*standing.Ledger, bool) {
	for i := range p.Seller.Ledgers {
		if p.Seller.Ledgers[i].Name == name {
			return &p.Seller.Ledgers[i], true
		}
	}
	return nil, false
}

func knownTypes(p *standing.Policy) string {
	var codes []string
	for _, t := range ViolationTypes(p) {
		codes = append(codes, t.Code)
	}
	return strings.Join(codes, ", ")
}

// Resolve checks a report against the policy for an account of role at now and returns the
// violation to record (without ID). Every error is EINVALID and names its field:
// seller_id (missing, or the account is not a seller), type (unknown; the message lists the
// known types), points (negative or above MaxPoints), case_id, evidence, note, at (in the future, or
// so old its points would no longer count). When r.Points is nil the type's points apply.
//
// The store records the violation under a unique constraint on Key (or on seller_id, type
// and case_id); when a violation with the same key exists, the report is a duplicate and
// the store returns that first violation, unchanged, instead of recording a second one.
func Resolve(p *standing.Policy, role standing.Role, r Report, now time.Time) (Violation, error) {
	sellerID := strings.TrimSpace(r.SellerID)
	if sellerID == "" {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "seller_id", "seller_id is required")
	}
	if role != standing.RoleSeller {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "seller_id",
			"account %s is a %s account; violations and penalty points apply only to seller accounts", sellerID, roleWords(role))
	}
	typ, ok := ViolationType(p, strings.TrimSpace(r.Type))
	if !ok {
		if strings.TrimSpace(r.Type) == "" {
			return Violation{}, standing.FieldErrorf(standing.EINVALID, "type", "type is required; known types: %s", knownTypes(p))
		}
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "type", "unknown violation type %q; known types: %s", r.Type, knownTypes(p))
	}
	if _, ok := findLedger(p, typ.Ledger); !ok {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "type", "violation type %q counts in ledger %q, which the policy does not have", typ.Code, typ.Ledger)
	}
	points := typ.Points
	if r.Points != nil {
		points = *r.Points
	}
	if points < 0 {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "points", "points cannot be negative (got %d); leave points out to use the type's %d", points, typ.Points)
	}
	if points > MaxPoints {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "points", "points must be at most %d (got %d)", MaxPoints, points)
	}
	caseID := strings.TrimSpace(r.CaseID)
	if len(caseID) > MaxCaseIDLen {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "case_id", "case_id is longer than %d characters", MaxCaseIDLen)
	}
	if strings.ContainsFunc(caseID, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "case_id", "case_id must not contain control characters")
	}
	evidence := strings.TrimSpace(r.Evidence)
	if len(evidence) > MaxEvidenceLen {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "evidence", "evidence is longer than %d characters", MaxEvidenceLen)
	}
	if strings.ContainsFunc(evidence, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "evidence", "evidence must not contain control characters; put longer text in note")
	}
	if len(r.Note) > standing.MaxNoteLen {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "note", "note is longer than %d characters", standing.MaxNoteLen)
	}
	at := r.At.UTC()
	if r.At.IsZero() {
		at = now.UTC()
	}
	if at.After(now) {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "at", "at %s is in the future", at.Format(time.RFC3339))
	}
	if life := p.Seller.PointLifetime.D(); !at.Add(life).After(now) {
		return Violation{}, standing.FieldErrorf(standing.EINVALID, "at", "at %s is more than %s ago; its points would no longer count", at.Format(time.RFC3339), p.Seller.PointLifetime)
	}
	return Violation{
		SellerID: sellerID, Type: typ.Code, Ledger: typ.Ledger, CaseID: caseID,
		Points: points, At: at, Evidence: evidence, Note: r.Note,
	}, nil
}

func roleWords(r standing.Role) string {
	if r == "" {
		return "unknown"
	}
	return string(r)
}

// Key returns the deduplication key of a violation of type typ in case caseID against
// sellerID: the value the store keeps under a unique constraint so that a second report of
// the same case finds the first. It is stable across versions and processes (a hash of the
// three values, each length-prefixed), and "" when caseID is empty: a report without a
// case is never a duplicate, and the store keeps NULL for it.
func Key(sellerID, typ, caseID string) string {
	if caseID == "" {
		return ""
	}
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{sellerID, typ, caseID} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return "vk1_" + hex.EncodeToString(h.Sum(nil)[:20])
}

// Key returns the violation's deduplication key; see the function Key.
func (v Violation) Key() string { return Key(v.SellerID, v.Type, v.CaseID) }

// FindDuplicate returns the violation among history that v repeats (same Key), if any.
func FindDuplicate(history []Violation, v Violation) (Violation, bool) {
	k := v.Key()
	if k == "" {
		return Violation{}, false
	}
	for _, h := range history {
		if h.SellerID == v.SellerID && h.Type == v.Type && h.CaseID == v.CaseID {
			return h, true
		}
	}
	return Violation{}, false
}
