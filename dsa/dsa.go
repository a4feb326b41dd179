// Package dsa turns Standing's restrictions into statements of reasons (EU Digital Services
// Act, Art. 17) in the submission format of the Commission's Transparency Database (schema
// v2, Art. 24(5)), checks them against the database's validation rules, and cuts them into
// batches for its API.
//
// A statement names what was decided, on which ground, the facts, whether automated means
// detected or decided it, and when it ends. It carries no personal data: FromRestriction
// reads only the restriction's reason, capabilities, source, dates and id — never its note,
// actor, message override or the account's details.
package dsa

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"standing"
	"standing/penalty"
)

// Statement is one statement of reasons, with the field names of the Transparency
// Database's submission format (v2). Dates are written YYYY-MM-DD. Optional fields are left
// out of the JSON when empty; the obsolete v1 fields do not exist here.
type Statement struct {
	DecisionVisibility           []string `json:"decision_visibility,omitempty"`
	DecisionVisibilityOther      string   `json:"decision_visibility_other,omitempty"`
	EndDateVisibilityRestriction string   `json:"end_date_visibility_restriction,omitempty"`

	DecisionMonetary           string `json:"decision_monetary,omitempty"`
	DecisionMonetaryOther      string `json:"decision_monetary_other,omitempty"`
	EndDateMonetaryRestriction string `json:"end_date_monetary_restriction,omitempty"`

	DecisionProvision         string `json:"decision_provision,omitempty"`
	EndDateServiceRestriction string `json:"end_date_service_restriction,omitempty"`

	DecisionAccount           string `json:"decision_account,omitempty"`
	EndDateAccountRestriction string `json:"end_date_account_restriction,omitempty"`
	AccountType               string `json:"account_type,omitempty"`

	DecisionGround                 string `json:"decision_ground"`
	DecisionGroundReferenceURL     string `json:"decision_ground_reference_url,omitempty"`
	IllegalContentLegalGround      string `json:"illegal_content_legal_ground,omitempty"`
	IllegalContentExplanation      string `json:"illegal_content_explanation,omitempty"`
	IncompatibleContentGround      string `json:"incompatible_content_ground,omitempty"`
	IncompatibleContentExplanation string `json:"incompatible_content_explanation,omitempty"`
	IncompatibleContentIllegal     string `json:"incompatible_content_illegal,omitempty"`

	ContentType      []string `json:"content_type"`
	ContentTypeOther string   `json:"content_type_other,omitempty"`

	Category                   string   `json:"category"`
	CategoryAddition           []string `json:"category_addition,omitempty"`
	CategorySpecification      []string `json:"category_specification,omitempty"`
	CategorySpecificationOther string   `json:"category_specification_other,omitempty"`

	TerritorialScope []string `json:"territorial_scope,omitempty"`
	ContentDate      string   `json:"content_date"`
	ApplicationDate  string   `json:"application_date"`

	DecisionFacts      string `json:"decision_facts"`
	SourceType         string `json:"source_type"`
	AutomatedDetection string `json:"automated_detection"`
	AutomatedDecision  string `json:"automated_decision"`
	PUID               string `json:"puid"`
}

// Submission is the body of a batch submission: POST /api/v1/statements.
type Submission struct {
	Statements []Statement `json:"statements"`
}

// MaxBatch is the most statements one submission may carry.
const MaxBatch = 100

// ContentTypeOtherAccount is what content_type_other says: the decision is about an account.
const ContentTypeOtherAccount = "account"

// ErrNotADecision is returned by FromRestriction for a restriction that is not a content
// moderation decision, so the exporter skips it: the person's own deletion request
// (self_deleted), and a restriction that removes nothing and closes no order — the notice
// of a seller closure to come, whose statement comes with the closure itself.
var ErrNotADecision = errors.New("dsa: the restriction is not a moderation decision (the account holder's own request, or the notice of a decision to come)")

// Options are the platform-wide settings of the statements.
type Options struct {
	// TerritorialScope lists the EU/EEA country codes where decisions apply; nil means the
	// whole EEA (EEACountries).
	TerritorialScope []string
	// ReferenceURL, when set, is the address of the terms of service the decisions rely on
	// (decision_ground_reference_url).
	ReferenceURL string
	// SourceType overrides SOURCE_VOLUNTARY (own-initiative detection), for decisions taken
	// on a notice.
	SourceType string
	// Closure marks a restriction that closes the account or store for good although
	// neither its reason nor its shape says so; it is then reported as a termination.
	// Callers need not set it for a store closure: FromRestriction recognises one by itself
	// (penalty.IsClosure).
	Closure bool
}

// Capabilities whose removal is a restriction of monetary payments, and of selling.
var (
	monetaryCaps = standing.CapSet(standing.CapPay, standing.CapWithdrawFunds, standing.CapReceivePayouts)
	sellingCaps  = standing.CapSet(standing.CapListProducts, standing.CapReceiveOrders)
)

// FromRestriction builds the statement of reasons for restriction r, put on an account of
// role created at accountCreated, with reason its catalog entry. The mapping:
//
//   - decision_account: DECISION_ACCOUNT_TERMINATED when the decision terminates — its
//     reason terminates, r is a store closure (penalty.IsClosure: seller_violation, no end,
//     everything removed but penalty.ClosureKeeps), or opts.Closure — otherwise
//     DECISION_ACCOUNT_SUSPENDED, whenever r removes a capability other than paying,
//     payouts and selling;
//   - decision_monetary: SUSPENSION (TERMINATION when terminating) when r removes pay,
//     withdraw_funds or receive_payouts;
//   - decision_provision, for sellers whose list_products or receive_orders is removed:
//     PARTIAL_SUSPENSION (the seller keeps the rest of the service), TOTAL_TERMINATION when
//     terminating. A restriction that removes no capability (flagged_recipient closes one
//     order) is a PARTIAL_SUSPENSION too;
//   - end dates: the restriction's end on every decision it made, none when it terminates
//     or has no end;
//   - account_type: business for sellers, private for buyers;
//   - decision_ground: incompatible with the terms of service, with the reason's DSAGround
//     and an explanation of what was removed; category: the reason's DSACategory when it is
//     an allowed value, else STATEMENT_CATEGORY_OTHER_VIOLATION_TC;
//   - content_type: CONTENT_TYPE_OTHER, content_type_other "account";
//   - content_date: the account's registration date; application_date: r's start;
//   - automated_detection: Yes unless a reviewer acted on no rule's flag;
//   - automated_decision: FULLY for rule-made restrictions, NOT_AUTOMATED for a
//     reviewer's, PARTIALLY for the system's — those follow mechanically from a policy that
//     people set and from people's acts (a verification deadline the person let pass,
//     penalty points reviewers gave), so a machine applied the decision but did not make
//     its criteria;
//   - decision_facts: the reason's catalog message as the person saw it, how it was
//     detected and decided, and the remedy — never r's note, actor or message override,
//     with anything that looks like an email address, IP address or phone number redacted;
//   - source_type: SOURCE_VOLUNTARY (or opts.SourceType); puid: r's id.
//
// It returns ErrNotADecision for self_deleted and for a notice that removes nothing, an
// EINVALID *standing.Error for bad input, and otherwise a statement that passes Validate.
// Page.Add wraps it for an export that skips, and reports, what it cannot state.
func FromRestriction(r standing.Restriction, reason *standing.Reason, accountCreated time.Time, role standing.Role, opts Options) (Statement, error) {
	if r.ReasonCode == standing.ReasonSelfDeleted || r.Removes == 0 && r.OrderID == "" && r.ReasonCode != standing.ReasonFlaggedRecipient {
		return Statement{}, ErrNotADecision
	}
	switch {
	case reason == nil:
		return Statement{}, standing.FieldErrorf(standing.EINVALID, "reason", "a statement needs the restriction's reason")
	case reason.Code != r.ReasonCode:
		return Statement{}, standing.FieldErrorf(standing.EINVALID, "reason", "the reason %q is not the restriction's reason %q", reason.Code, r.ReasonCode)
	case !role.Valid():
		return Statement{}, standing.FieldErrorf(standing.EINVALID, "role", "role must be buyer or seller, not %q", role)
	case accountCreated.IsZero():
		return Statement{}, standing.FieldErrorf(standing.EINVALID, "account_created", "a statement needs the account's registration date")
	case r.StartsAt.IsZero():
		return Statement{}, standing.FieldErrorf(standing.EINVALID, "starts_at", "a statement needs the restriction's start")
	}
	puid, err := PUID(r.ID)
	if err != nil {
		return Statement{}, err
	}

	terminates := reason.Terminates || opts.Closure || penalty.IsClosure(r)
	end := ""
	if r.EndsAt != nil && !terminates {
		end = date(*r.EndsAt)
	}
	s := Statement{
		DecisionGround:             DecisionGroundIncompatibleContent,
		DecisionGroundReferenceURL: opts.ReferenceURL,
		ContentType:                []string{ContentTypeOther},
		ContentTypeOther:           ContentTypeOtherAccount,
		Category:                   CategoryOtherViolationTC,
		TerritorialScope:           opts.TerritorialScope,
		ContentDate:                date(accountCreated),
		ApplicationDate:            date(r.StartsAt),
		SourceType:                 SourceVoluntary,
		AutomatedDetection:         Yes,
		PUID:                       puid,
	}
	if s.TerritorialScope == nil {
		s.TerritorialScope = EEACountries()
	}
	if opts.SourceType != "" {
		s.SourceType = opts.SourceType
	}
	if ValidCategory(reason.DSACategory) {
		s.Category = reason.DSACategory
	}
	if reason.Code == standing.ReasonDuplicateIdentity {
		s.CategorySpecification = []string{KeywordInauthenticAccounts}
	}
	switch role {
	case standing.RoleSeller:
		s.AccountType = AccountTypeBusiness
	default:
		s.AccountType = AccountTypePrivate
	}

	// The decisions.
	removes := r.Removes
	if role != standing.RoleSeller {
		removes &^= sellingCaps // a buyer does not sell: those capabilities mean nothing here
	}
	if removes&^(monetaryCaps|sellingCaps) != 0 {
		s.DecisionAccount = pick(terminates, DecisionAccountTerminated, DecisionAccountSuspended)
		s.EndDateAccountRestriction = end
	}
	if removes&monetaryCaps != 0 {
		s.DecisionMonetary = pick(terminates, DecisionMonetaryTermination, DecisionMonetarySuspension)
		s.EndDateMonetaryRestriction = end
	}
	if removes&sellingCaps != 0 || removes == 0 {
		s.DecisionProvision = pick(terminates, DecisionProvisionTotalTermination, DecisionProvisionPartialSuspension)
		s.EndDateServiceRestriction = end
	}

	// Detection and decision.
	switch r.Source {
	case standing.SourceRule:
		s.AutomatedDecision = AutomatedDecisionFully
	case standing.SourceSystem:
		s.AutomatedDecision = AutomatedDecisionPartially
	case standing.SourceReviewer:
		s.AutomatedDecision = AutomatedDecisionNotAutomated
		if r.RuleID == "" {
			s.AutomatedDetection = No
		}
	default:
		return Statement{}, standing.FieldErrorf(standing.EINVALID, "source", "source must be rule, reviewer or system, not %q", r.Source)
	}

	// The ground, the explanation and the facts, from the catalog only.
	s.IncompatibleContentGround = Redact(standing.DSAGroundOf(reason))
	s.IncompatibleContentExplanation = Redact(explanation(reason, removes, terminates, r.EndsAt))
	s.DecisionFacts = facts(r, reason, removes, terminates, penalty.IsClosure(r))

	if err := Validate(s); err != nil {
		return Statement{}, err
	}
	return s, nil
}

func explanation(reason *standing.Reason, removes standing.CapabilitySet, terminates bool, end *time.Time) string {
	var b strings.Builder
	b.WriteString(sentence(reason.Title))
	switch {
	case removes == 0:
		b.WriteString(" No capability of the account was removed; the decision withheld a single transaction.")
	case terminates:
		fmt.Fprintf(&b, " The account holder can no longer %s: the decision is final.", words(removes))
	default:
		fmt.Fprintf(&b, " The account holder can no longer %s %s.", words(removes), standing.RenderUntil("{until}", end))
	}
	return b.String()
}

// OutOfCourtRedress is the sentence every statement's decision_facts carries: the remedies
// open besides the internal complaint-handling system (DSA Art. 17(3)(f) and Art. 21).
// It is true of every decision, appealable or not.
const OutOfCourtRedress = "The account holder may also refer the decision to a certified out-of-court dispute settlement body (EU Digital Services Act, Art. 21) or take it to court."

// facts writes decision_facts. The catalog's words (title, message, remedy) are redacted
// and, if together with the fixed sentences they would pass MaxFactsLen, shortened — the
// message first, then the remedy, then the title — so the statement always fits and always
// names every remedy.
func facts(r standing.Restriction, reason *standing.Reason, removes standing.CapabilitySet, terminates, closure bool) string {
	title := Redact(strings.TrimSuffix(strings.TrimSpace(reason.Title), "."))
	told := ""
	if !closure {
		told = Redact(strings.TrimSpace(reason.RenderMessage(r.EndsAt)))
	}
	remedy := Redact(sentence(reason.Remedy))
	write := func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "Restriction: %s. ", title)
		if closure {
			// The catalog's words describe a pause; the person was told of the closure in
			// words of their own, which a statement does not read.
			fmt.Fprintf(&b, "The store was closed for good; the account holder can still %s, and nothing else. ", words(r.Removes.Complement()))
		} else {
			fmt.Fprintf(&b, "The account holder was told: \u201c%s\u201d ", told)
		}
		switch {
		case r.Source == standing.SourceRule:
			b.WriteString("Automated risk rules detected the activity and applied the restriction without human review. ")
		case r.Source == standing.SourceReviewer && r.RuleID != "":
			b.WriteString("Automated risk rules flagged the account and a trust and safety reviewer decided on the restriction. ")
		case r.Source == standing.SourceReviewer:
			b.WriteString("A trust and safety reviewer detected the issue and decided on the restriction. ")
		default:
			b.WriteString("The service applied the restriction automatically under a policy set by people, once its condition was met. ")
		}
		if removes != 0 && !terminates {
			b.WriteString("Everything else on the account still works. ")
		}
		if r.Appealable {
			b.WriteString("The account holder can appeal free of charge through the internal complaint-handling system; a person decides every appeal. ")
		}
		b.WriteString(OutOfCourtRedress + " ")
		if remedy != "" {
			fmt.Fprintf(&b, "Remedy offered: %s", remedy)
		}
		return strings.TrimSpace(b.String())
	}
	out := write()
	if over := chars(out) - MaxFactsLen; over > 0 {
		told, over = shorten(told, over)
		remedy, over = shorten(remedy, over)
		title, _ = shorten(title, over)
		out = write()
	}
	return out
}

// shorten cuts over characters off the end of s, marking the cut with an ellipsis, and
// returns what is left of over when s was too short to take it all.
func shorten(s string, over int) (string, int) {
	n := chars(s)
	switch {
	case over <= 0 || n == 0:
		return s, over
	case over+1 < n:
		return string([]rune(s)[:n-over-1]) + "\u2026", 0
	}
	return "\u2026", over - (n - 1)
}

// words says what the capabilities let a person do, in the third person.
func words(c standing.CapabilitySet) string { return strings.ReplaceAll(c.Words(), "your", "their") }

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// date writes t's UTC calendar day as YYYY-MM-DD.
func date(t time.Time) string { return t.UTC().Format(dateLayout) }

const dateLayout = "2006-01-02"

var puidPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// MaxPUIDLen is the longest puid the Transparency Database accepts.
const MaxPUIDLen = 500

// PUID derives a statement's platform unique identifier from a restriction id: characters
// outside a-z, A-Z, 0-9, '-' and '_' become '-'. A restriction has one statement, so its
// id (never reused) makes the puid unique.
func PUID(restrictionID string) (string, error) {
	if restrictionID == "" {
		return "", standing.FieldErrorf(standing.EINVALID, "id", "a statement needs the restriction's id")
	}
	if len(restrictionID) > MaxPUIDLen {
		return "", standing.FieldErrorf(standing.EINVALID, "id", "a restriction id over %d characters cannot be a puid", MaxPUIDLen)
	}
	b := []byte(restrictionID)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b), nil
}

// What Redact removes: email addresses, IPv4 and IPv6 addresses, and runs of eight or more
// digits (phone, card or account numbers), except ISO dates. Each pattern comes with a
// check of the match that keeps what only looks like one (a time such as 14:00:00 is an
// accepted loss).
var personal = []struct {
	re   *regexp.Regexp
	keep func(string) bool
}{
	{regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+`), nil},
	{regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`), nil},
	{regexp.MustCompile(`(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}`), func(m string) bool {
		return strings.Trim(m, ":") == "" // "::" alone is punctuation
	}},
	{regexp.MustCompile(`\+?\(?\d(?:[ ./\-()]{0,2}\d){7,}`), isoDate.MatchString},
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Redacted replaces what Redact removes.
const Redacted = "[redacted]"

// Redact replaces anything in s that looks like personal data — an email address, an IP
// address, a long number — with "[redacted]". It is a safety net under operator-written
// catalog text; FromRestriction never reads per-person text in the first place.
func Redact(s string) string {
	for _, p := range personal {
		s = p.re.ReplaceAllStringFunc(s, func(m string) string {
			if p.keep != nil && p.keep(m) {
				return m
			}
			return Redacted
		})
	}
	return s
}

// Batches cuts statements into submissions of at most size (MaxBatch when size is not in
// 1..MaxBatch). The batches share the statements' backing array.
func Batches(statements []Statement, size int) [][]Statement {
	if size <= 0 || size > MaxBatch {
		size = MaxBatch
	}
	var out [][]Statement
	for i := 0; i < len(statements); i += size {
		j := min(i+size, len(statements))
		out = append(out, statements[i:j:j])
	}
	return out
}

// chars counts characters the way the Transparency Database's limits do.
func chars(s string) int { return utf8.RuneCountInString(s) }

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
