package standing

import (
	"encoding/json"
	"math/bits"
	"strings"
)

// Capability is one thing an account can do on the marketplace.
type Capability uint8

// The capabilities, in the order PRODUCT.md lists them.
const (
	CapLogin Capability = iota
	CapPlaceOrder
	CapPay
	CapViewOrders
	CapOpenDispute
	CapMessage
	CapPostReview
	CapChangeProfile
	CapWithdrawFunds
	CapListProducts
	CapReceiveOrders
	CapReceivePayouts
	CapAppeal
	CapDeleteAccount
	numCapabilities
)

var capabilityNames = [numCapabilities]string{
	"login", "place_order", "pay", "view_orders", "open_dispute", "message", "post_review",
	"change_profile", "withdraw_funds", "list_products", "receive_orders", "receive_payouts",
	"appeal", "delete_account",
}

// capabilityWords says in plain words what each capability lets a person do.
var capabilityWords = [numCapabilities]string{
	"sign in", "place orders", "pay", "see your orders", "open disputes", "send messages",
	"post reviews", "change your profile", "withdraw funds", "list products", "receive orders",
	"receive payouts", "appeal decisions", "delete your account",
}

// String returns the capability's API name.
func (c Capability) String() string {
	if c < numCapabilities {
		return capabilityNames[c]
	}
	return "unknown"
}

// Words returns what the capability lets a person do, in plain words.
func (c Capability) Words() string {
	if c < numCapabilities {
		return capabilityWords[c]
	}
	return "unknown"
}

// ParseCapability returns the capability with the API name s.
func ParseCapability(s string) (Capability, bool) {
	for i, n := range capabilityNames {
		if n == s {
			return Capability(i), true
		}
	}
	return 0, false
}

// ParseCapabilityBytes is ParseCapability for bytes, without allocating.
func ParseCapabilityBytes(b []byte) (Capability, bool) {
	for i, n := range capabilityNames {
		if string(b) == n {
			return Capability(i), true
		}
	}
	return 0, false
}

// CapabilityNames lists every capability's API name.
func CapabilityNames() []string { return append([]string(nil), capabilityNames[:]...) }

// CapabilitySet is a set of capabilities. It marshals to JSON as a list of names.
type CapabilitySet uint32

// AllCapabilities holds every capability.
const AllCapabilities CapabilitySet = 1<<numCapabilities - 1

// CapSet returns the set of the given capabilities.
func CapSet(cs ...Capability) CapabilitySet {
	var s CapabilitySet
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Has reports whether c is in s.
func (s CapabilitySet) Has(c Capability) bool { return s&(1<<c) != 0 }

// Len returns the number of capabilities in s.
func (s CapabilitySet) Len() int { return bits.OnesCount32(uint32(s)) }

// Complement returns every capability not in s.
func (s CapabilitySet) Complement() CapabilitySet { return AllCapabilities &^ s }

// List returns the capabilities in s in catalog order.
func (s CapabilitySet) List() []Capability {
	out := make([]Capability, 0, s.Len())
	for c := Capability(0); c < numCapabilities; c++ {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// Names returns the API names of the capabilities in s.
func (s CapabilitySet) Names() []string {
	out := make([]string, 0, s.Len())
	for _, c := range s.List() {
		out = append(out, c.String())
	}
	return out
}

// Words returns what the capabilities in s let a person do, joined in plain words.
func (s CapabilitySet) Words() string {
	var ws []string
	for _, c := range s.List() {
		ws = append(ws, c.Words())
	}
	switch len(ws) {
	case 0:
		return "nothing"
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

// ParseCapabilitySet parses a list of capability names; "all" stands for every capability.
func ParseCapabilitySet(names []string) (CapabilitySet, error) {
	var s CapabilitySet
	for _, n := range names {
		if n == "all" {
			s = AllCapabilities
			continue
		}
		c, ok := ParseCapability(n)
		if !ok {
			return 0, Errorf(EINVALID, "unknown capability %q; known: %s", n, strings.Join(capabilityNames[:], ", "))
		}
		s |= CapSet(c)
	}
	return s, nil
}

// MarshalJSON writes s as a list of names.
func (s CapabilitySet) MarshalJSON() ([]byte, error) { return json.Marshal(s.Names()) }

// UnmarshalJSON reads a list of names.
func (s *CapabilitySet) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	v, err := ParseCapabilitySet(names)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalYAML writes s as a list of names (yaml.v3 calls it by name).
func (s CapabilitySet) MarshalYAML() (any, error) { return s.Names(), nil }
