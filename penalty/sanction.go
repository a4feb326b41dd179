package penalty

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"standing"
)

// Sanction kinds, as standing.Sanction.Kind spells them.
const (
	KindWarning      = "warning"
	KindFine         = "fine"
	KindListingLimit = "listing_limit"
	KindSuspension   = "suspension"
	KindClosure      = "closure"
)

// What brought a sanction.
const (
	TriggerEvery     = "every"     // the total crossed a multiple of the ledger's Every
	TriggerThreshold = "threshold" // the total reached a threshold
	TriggerStrike    = "strike"    // a new strike
)

// ClosureKeeps is what a closed store can still do: sign in, see its orders, be paid what
// buyers already owe it (withdraw funds, receive payouts) and appeal the closure.
const ClosureKeeps = standing.CapabilitySet(1<<standing.CapLogin | 1<<standing.CapViewOrders |
	1<<standing.CapWithdrawFunds | 1<<standing.CapReceivePayouts | 1<<standing.CapAppeal)

// IsClosure reports whether r closes a store for good: reason seller_violation, no end, and
// every capability removed except ClosureKeeps. That is the restriction a closure sanction
// makes (Sanction.Restriction), and a reviewer's restriction with the same effect counts as
// one too. Everything that must tell a closure from a suspension (the statements of
// reasons, the seller dashboard, the store) asks here, so they cannot drift apart.
func IsClosure(r standing.Restriction) bool {
	return r.ReasonCode == standing.ReasonSellerViolation && r.EndsAt == nil && r.Removes == ClosureKeeps.Complement()
}

// Sanction is a sanction a violation brought, with why in plain words.
type Sanction struct {
	standing.Sanction
	// Ledger is the name of the ledger whose total brought it.
	Ledger string `json:"ledger"`
	// Trigger is TriggerEvery, TriggerThreshold or TriggerStrike.
	Trigger string `json:"trigger"`
	// Level is the points total reached (every, threshold) or the strike number (strike).
	Level int `json:"level"`
	// Reason says why in plain words, e.g. "your points for transactions reached 12" or
	// "you received your 2nd strike for serious IP infringement".
	Reason string `json:"reason"`
}

// Removes returns the capabilities the sanction takes away: none for warning and fine.
func (s Sanction) Removes() standing.CapabilitySet {
	switch s.Kind {
	case KindListingLimit:
		return standing.CapSet(standing.CapListProducts)
	case KindSuspension:
		return standing.CapSet(standing.CapListProducts, standing.CapReceiveOrders)
	case KindClosure:
		return ClosureKeeps.Complement()
	}
	return 0
}

// Restriction returns the restriction that carries out the sanction from now, with reason
// seller_violation and source system, or nil for a warning or a fine, which remove no
// capability. ledgerTitle names the ledger in the message; "" keeps the words of Reason.
// A suspension or a timed listing limit gets Duration; a closure has no end. The Message
// keeps the "{until}" placeholder that standing.NewRestriction.Resolve fills.
func (s Sanction) Restriction(now time.Time, ledgerTitle string) *standing.NewRestriction {
	removes := s.Removes()
	if removes == 0 {
		return nil
	}
	why := s.reason(ledgerTitle)
	var msg string
	switch s.Kind {
	case KindListingLimit:
		if s.Duration > 0 {
			msg = fmt.Sprintf("You cannot list new products for %s because %s. Listing is paused {until}; your store keeps receiving orders and you keep your funds and payouts.", durationWords(s.Duration), why)
		} else {
			msg = fmt.Sprintf("You cannot list new products because %s. Listing is paused {until}; your store keeps receiving orders and you keep your funds and payouts.", why)
		}
	case KindSuspension:
		msg = fmt.Sprintf("Your store is suspended for %s because %s. Listing products and receiving orders are paused {until}; you can still see your orders, withdraw your funds, receive payouts and appeal.", durationWords(s.Duration), why)
	case KindClosure:
		msg = fmt.Sprintf("Your store is closed because %s. You can still sign in, see your orders, withdraw your funds and receive payouts of what you are owed, and appeal this decision.", why)
	}
	r := &standing.NewRestriction{
		ReasonCode: standing.ReasonSellerViolation,
		Source:     standing.SourceSystem,
		Actor:      "penalty",
		Removes:    &removes,
		Message:    msg,
		Note:       fmt.Sprintf("%s on %s: %s (ledger %s).", s.Kind, standing.FormatTime(now), why, s.Ledger),
	}
	if s.Kind != KindClosure && s.Duration > 0 {
		r.Duration = s.Duration.String()
	}
	return r
}

// reason is why the sanction came, naming the ledger by title when one is given.
func (s Sanction) reason(ledgerTitle string) string {
	if ledgerTitle == "" || s.Trigger == "" {
		if s.Reason != "" {
			return s.Reason
		}
		ledgerTitle = s.Ledger
	}
	return reasonWords(s.Trigger, s.Level, ledgerTitle)
}

func reasonWords(trigger string, level int, ledgerTitle string) string {
	t := lowerFirst(ledgerTitle)
	if trigger == TriggerStrike {
		return fmt.Sprintf("you received your %s strike for %s", ordinal(level), t)
	}
	return fmt.Sprintf("your points for %s reached %d", t, level)
}

// lowerFirst lower-cases the first letter of a title for use inside a sentence, unless the
// first word is an acronym ("IP rights").
func lowerFirst(s string) string {
	if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' || (s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Words says what the sanction does in plain words: "a 7-day store suspension".
func (s Sanction) Words() string { return sanctionWords(s.Sanction) }

func sanctionWords(s standing.Sanction) string {
	switch s.Kind {
	case KindWarning:
		return "a warning"
	case KindFine:
		if s.Amount > 0 {
			return fmt.Sprintf("a fine of %s", standing.Money{Currency: s.FineCurrency(), Amount: s.Amount})
		}
		return "a fine"
	case KindListingLimit:
		if s.Duration > 0 {
			return fmt.Sprintf("a %s limit on listing products", dayWords(s.Duration))
		}
		return "a limit on listing products"
	case KindSuspension:
		return fmt.Sprintf("a %s store suspension", dayWords(s.Duration))
	case KindClosure:
		return "closure of the store"
	}
	return s.Kind
}

// durationWords writes d as "7 days", "1 day" or "36h0m0s".
func durationWords(d standing.Duration) string {
	day := 24 * time.Hour
	if td := d.D(); td > 0 && td%day == 0 {
		n := td / day
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.D().String()
}

// dayWords writes d as an adjective: "7-day", "1-day", "36h0m0s".
func dayWords(d standing.Duration) string {
	day := 24 * time.Hour
	if td := d.D(); td > 0 && td%day == 0 {
		return fmt.Sprintf("%d-day", td/day)
	}
	return d.D().String()
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}
