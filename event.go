package standing

import (
	"encoding/json"
	"time"
)

// Event is a fact about an account reported by the marketplace (or recorded by Standing
// itself, like a failed sign-in), with its time, IP and device. Events are stored for the
// risk features and for backtests of rules.
type Event struct {
	ID         string          `json:"id"`
	AccountID  string          `json:"account_id"`
	Type       string          `json:"type"`
	Time       time.Time       `json:"time"`
	IP         string          `json:"ip,omitempty"`
	DeviceID   string          `json:"device_id,omitempty"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
	ReceivedAt time.Time       `json:"received_at"`
}

// The built-in event types.
const (
	EventSignup             = "signup"
	EventLoginSucceeded     = "login_succeeded"
	EventLoginFailed        = "login_failed"
	EventProfileChanged     = "profile_changed"
	EventPaymentDeclined    = "payment_declined"
	EventPaymentSucceeded   = "payment_succeeded"
	EventOrderPlaced        = "order_placed"
	EventOrderCancelled     = "order_cancelled"
	EventShipmentLate       = "shipment_late"
	EventDisputeOpened      = "dispute_opened"
	EventComplaintReceived  = "complaint_received"
	EventViolationReported  = "violation_reported"
	EventEmailVerified      = "email_verified"
	EventPasswordChanged    = "password_changed"
	EventVerificationResent = "verification_resent"
)

// Limits on events.
const (
	MaxEventTypeLen   = 64
	MaxEventIDLen     = 128
	MaxDeviceIDLen    = 200
	MaxAttributesSize = 16 << 10
)

// EventInput is one event as the API accepted it: validated, with what IP intelligence
// says about its address, and the identity details it carries already normalised and
// hashed (Standing never stores them in plain). The store decides on it in one transaction.
type EventInput struct {
	Event
	// Country, ASN and IPFlags come from IP intelligence at the time of arrival; they are
	// stored with the event so a backtest sees what the rules saw.
	Country string
	ASN     uint
	IPFlags IPFlags
	// Identity holds the identity details of the event (name, phone, shipping address,
	// card fingerprint from its attributes; its device id), hashed.
	Identity []IdentityAttribute
	// OrderRef is attributes.order_id: the order the event is about, by id or external id.
	OrderRef string
	// RecipientName is attributes.recipient_name, checked against the watch list.
	RecipientName string
	// Values is Attributes decoded, when the caller decoded it already.
	Values map[string]any
}

// IPFlags is what IP intelligence says about an event's address.
type IPFlags struct {
	Anonymous        bool `json:"anonymous,omitempty"`
	VPN              bool `json:"vpn,omitempty"`
	Proxy            bool `json:"proxy,omitempty"`
	ResidentialProxy bool `json:"residential_proxy,omitempty"`
	Tor              bool `json:"tor,omitempty"`
	Hosting          bool `json:"hosting,omitempty"`
}

// Bits packs the flags into an integer for storage.
func (f IPFlags) Bits() int64 {
	var b int64
	for i, v := range []bool{f.Anonymous, f.VPN, f.Proxy, f.ResidentialProxy, f.Tor, f.Hosting} {
		if v {
			b |= 1 << i
		}
	}
	return b
}

// IPFlagsFromBits unpacks flags packed by Bits.
func IPFlagsFromBits(b int64) IPFlags {
	return IPFlags{Anonymous: b&1 != 0, VPN: b&2 != 0, Proxy: b&4 != 0, ResidentialProxy: b&8 != 0, Tor: b&16 != 0, Hosting: b&32 != 0}
}

// EventResult is the outcome of one event of a batch: a decision, or an error that
// concerns this event only (ENOTFOUND for an unknown account, EGONE for an erased one).
type EventResult struct {
	Decision *EventDecision
	Err      error
}

// EventDecision is what Standing decided on an event: the score, the rules that fired with
// the values that made them fire, what shadow rules would have done, and the actions
// taken. It is stored with the event, so a repeated event id gets it back unchanged.
type EventDecision struct {
	EventID   string        `json:"event_id"`
	AccountID string        `json:"account_id"`
	Type      string        `json:"type"`
	Score     int           `json:"score"`
	Fired     []FiredRule   `json:"fired"`
	Shadow    []FiredRule   `json:"shadow"`
	Actions   []RiskAction  `json:"actions"`
	Errors    []RuleFailure `json:"errors,omitempty"`
	DecidedAt time.Time     `json:"decided_at"`
	// Duplicate is set when the event id was seen before: this is the first decision,
	// and nothing changed this time.
	Duplicate bool `json:"duplicate,omitempty"`
}

// FiredRule is one rule that fired on an event, with the values that made it fire.
type FiredRule struct {
	RuleID  string `json:"rule_id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	Mode    string `json:"mode"`
	Score   int    `json:"score"`
	// Outcome is the rule's outcome: what it did (active) or would have done (shadow).
	Outcome json.RawMessage `json:"outcome"`
	// Effect says what the firing did, or for a shadow rule what it would have done.
	Effect string `json:"effect"`
	// Because lists the values the rule read, e.g. "features.declined_payments_24h = 3".
	Because     string           `json:"because"`
	Explanation []ExplainedValue `json:"explanation"`
}

// ExplainedValue is one field a rule read and its value.
type ExplainedValue struct {
	Name    string `json:"name"`
	Value   any    `json:"value"`
	Missing bool   `json:"missing,omitempty"`
}

// RuleFailure is a rule that could not be evaluated on an event (it counts as not fired),
// or an outcome that was left out.
type RuleFailure struct {
	RuleID  string `json:"rule_id"`
	Version int    `json:"version"`
	Message string `json:"message"`
}

// The kinds of risk action.
const (
	ActionRestrict    = "restrict"     // a restriction was added (or one of that reason was already active)
	ActionCloseOrders = "close_orders" // the account's active orders were closed
	ActionCloseOrder  = "close_order"  // the order the event is about was closed
	ActionReview      = "review"       // the account was sent to the reviewers' queue
)

// RiskAction is one thing the active rules made Standing do. Done is false when nothing
// changed (a restriction of that reason was active already, no order was open); Note says
// why.
type RiskAction struct {
	Kind          string   `json:"kind"`
	RuleIDs       []string `json:"rule_ids"`
	ReasonCode    string   `json:"reason_code,omitempty"`
	RestrictionID string   `json:"restriction_id,omitempty"`
	OrderIDs      []string `json:"order_ids,omitempty"`
	ReviewID      string   `json:"review_id,omitempty"`
	Done          bool     `json:"done"`
	Note          string   `json:"note,omitempty"`
}
