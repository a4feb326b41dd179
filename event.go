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
