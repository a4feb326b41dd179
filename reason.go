package standing

import (
	"strings"
	"time"
)

// The built-in reason codes.
const (
	ReasonEmailUnverified     = "email_unverified"
	ReasonRiskReview          = "risk_review"
	ReasonPaymentVerification = "payment_verification"
	ReasonFlaggedRecipient    = "flagged_recipient"
	ReasonDisputeAbuse        = "dispute_abuse"
	ReasonBuyerComplaints     = "buyer_complaints"
	ReasonDuplicateIdentity   = "duplicate_identity"
	ReasonFraudConfirmed      = "fraud_confirmed"
	ReasonSelfDeleted         = "self_deleted"
	ReasonSellerViolation     = "seller_violation"
)

// Reason is one entry of the reason catalog: why a restriction exists, what it removes,
// whether it can be appealed, and the words the person sees.
type Reason struct {
	Code  string `yaml:"code" json:"code"`
	Title string `yaml:"title" json:"title"`
	// AppliesTo is "any", "buyer" or "seller".
	AppliesTo string `yaml:"applies_to" json:"applies_to"`
	// RemovesNames lists the capabilities removed; KeepsNames, instead, lists the ones left.
	RemovesNames []string `yaml:"removes" json:"removes"`
	KeepsNames   []string `yaml:"keeps,omitempty" json:"-"`
	Appealable   bool     `yaml:"appealable" json:"appealable"`
	// Severity orders overlapping restrictions: the most severe one answers a check.
	Severity int `yaml:"severity" json:"severity"`
	// Message is shown to the person; "{until}" becomes "until <time>" or "until it is
	// lifted", and "{verification_deadline}" the policy's verification deadline in words
	// ("72 hours"), so that changing a setting changes the words that state it.
	Message string `yaml:"message" json:"message"`
	Remedy  string `yaml:"remedy" json:"remedy"`
	// RemedyAction names the button the account page shows: reactivate, appeal, sign_in, none.
	RemedyAction string `yaml:"remedy_action" json:"remedy_action"`
	// Documents lists the evidence an appeal against this reason asks for.
	Documents []DocumentRequest `yaml:"documents,omitempty" json:"documents,omitempty"`
	// DefaultDuration is how long a restriction lasts when no end is given (0 = until lifted).
	DefaultDuration Duration `yaml:"default_duration,omitempty" json:"default_duration,omitempty"`
	// Statement-of-reasons fields (DSA Art. 17 and the Transparency Database).
	DSACategory string `yaml:"dsa_category" json:"dsa_category"`
	DSAGround   string `yaml:"dsa_ground" json:"dsa_ground"`
	// Terminates marks reasons that end the account for good rather than suspend it.
	Terminates bool `yaml:"terminates,omitempty" json:"terminates,omitempty"`

	Removes CapabilitySet `yaml:"-" json:"-"`

	// settings fills the policy's placeholders; Policy.Validate sets it.
	settings *strings.Replacer
}

// PlaceholderVerificationDeadline in a reason's message becomes the policy's verification
// deadline in words ("72 hours").
const PlaceholderVerificationDeadline = "{verification_deadline}"

// DocumentRequest is one document an appeal asks for, labelled and explained.
type DocumentRequest struct {
	Key      string `yaml:"key" json:"key"`
	Label    string `yaml:"label" json:"label"`
	Help     string `yaml:"help" json:"help"`
	Required bool   `yaml:"required" json:"required"`
}

func (r *Reason) resolve(field string) error {
	if r.Code == "" || len(r.Code) > 64 || strings.Trim(r.Code, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return FieldErrorf(EINVALID, field+".code", "a reason code is 1-64 lower-case letters, digits and underscores, not %q", r.Code)
	}
	switch r.AppliesTo {
	case "":
		r.AppliesTo = "any"
	case "any", "buyer", "seller":
	default:
		return FieldErrorf(EINVALID, field+".applies_to", "applies_to must be any, buyer or seller")
	}
	if len(r.KeepsNames) > 0 && len(r.RemovesNames) > 0 {
		return FieldErrorf(EINVALID, field, "reason %q has both removes and keeps; give one", r.Code)
	}
	if len(r.KeepsNames) > 0 {
		keeps, err := ParseCapabilitySet(r.KeepsNames)
		if err != nil {
			return FieldErrorf(EINVALID, field+".keeps", "%s", ErrorMessage(err))
		}
		r.Removes = keeps.Complement()
		r.RemovesNames, r.KeepsNames = r.Removes.Names(), nil
	} else {
		removes, err := ParseCapabilitySet(r.RemovesNames)
		if err != nil {
			return FieldErrorf(EINVALID, field+".removes", "%s", ErrorMessage(err))
		}
		r.Removes = removes
		r.RemovesNames = removes.Names()
	}
	if strings.TrimSpace(r.Message) == "" {
		return FieldErrorf(EINVALID, field+".message", "reason %q needs a message for the person", r.Code)
	}
	if r.RemedyAction == "" {
		r.RemedyAction = "none"
	}
	if r.Title == "" {
		r.Title = r.Code
	}
	return nil
}

// AppliesToRole reports whether the reason may be put on an account of role.
func (r *Reason) AppliesToRole(role Role) bool {
	return r.AppliesTo == "any" || r.AppliesTo == string(role)
}

// RenderMessage fills the reason's message template for a restriction ending at end:
// "{until}" and the policy's settings ("{verification_deadline}").
func (r *Reason) RenderMessage(end *time.Time) string {
	return r.Render(r.Message, end)
}

// Render fills a message template s written for this reason (its own, or a restriction's
// override) for a restriction ending at end. A reason that did not come through
// Policy.Validate leaves the settings' placeholders as they are.
func (r *Reason) Render(s string, end *time.Time) string {
	if r.settings != nil {
		s = r.settings.Replace(s)
	}
	return RenderUntil(s, end)
}

// RenderUntil replaces "{until}" in s with the end of a restriction in plain words.
func RenderUntil(s string, end *time.Time) string {
	if !strings.Contains(s, "{until}") {
		return s
	}
	until := "until it is lifted"
	if end != nil {
		until = "until " + FormatTime(*end)
	}
	return strings.ReplaceAll(s, "{until}", until)
}

// FormatTime writes t the way people read it: "2 Dec 2026, 14:00 UTC".
func FormatTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 MST") }
