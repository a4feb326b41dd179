package penalty

import (
	"fmt"
	"time"

	"standing"
)

// Notice kinds.
const (
	// NoticeClosure announces a closure that takes effect at EffectiveAt (P2B regulation).
	NoticeClosure = "closure"
	// NoticeWarning is the prior warning given instead of a first suspension (DSA Art. 23).
	NoticeWarning = "warning"
)

// Notice is an EU notice given instead of a sanction: the announcement of a closure to
// come, or a prior warning instead of a suspension. The caller mails its Text and shows it
// on the seller dashboard.
type Notice struct {
	Kind        string `json:"kind"`
	Ledger      string `json:"ledger"`
	LedgerTitle string `json:"ledger_title"`
	// ViolationID is the violation that brought it.
	ViolationID string    `json:"violation_id,omitempty"`
	IssuedAt    time.Time `json:"issued_at"`
	// EffectiveAt is when a closure takes effect; for a warning, IssuedAt.
	EffectiveAt time.Time `json:"effective_at"`
	// Sanction is the closure to apply at EffectiveAt, or the suspension a warning replaced.
	Sanction Sanction `json:"sanction"`
	Text     string   `json:"text"`
}

// Restriction returns the restriction to apply at EffectiveAt for a closure notice, or nil
// for a warning. The caller schedules it and checks ClosureStillDue first.
func (n Notice) Restriction() *standing.NewRestriction {
	if n.Kind != NoticeClosure {
		return nil
	}
	return n.Sanction.Restriction(n.EffectiveAt, n.LedgerTitle)
}

// NoticeRestriction returns, for a closure notice, the restriction that stands for the
// announced closure until it takes effect: reason seller_violation, removing nothing, with
// the notice's text as its message. It lets the seller appeal the closure before it
// happens (P2B regulation, Art. 4) through the ordinary appeal flow, and shows the notice
// wherever restrictions are shown. A caller that finds it lifted (an appeal overturned it)
// when the closure is due cancels the closure. nil for a warning.
func (n Notice) NoticeRestriction() *standing.NewRestriction {
	if n.Kind != NoticeClosure {
		return nil
	}
	var none standing.CapabilitySet
	return &standing.NewRestriction{
		ReasonCode: standing.ReasonSellerViolation,
		Source:     standing.SourceSystem,
		Actor:      "penalty",
		Removes:    &none,
		Message:    n.Text,
		Note:       fmt.Sprintf("Closure notice: %s (ledger %s); takes effect on %s.", n.Sanction.reason(n.LedgerTitle), n.Ledger, standing.FormatTime(n.EffectiveAt)),
	}
}

func closureNotice(p *standing.Policy, l *standing.Ledger, v Violation, s Sanction, now time.Time) Notice {
	eff := now.Add(p.EU.ClosureNotice.D())
	return Notice{
		Kind: NoticeClosure, Ledger: l.Name, LedgerTitle: l.Title, ViolationID: v.ID,
		IssuedAt: now, EffectiveAt: eff, Sanction: s,
		Text: fmt.Sprintf("Your store will be closed on %s because %s. Until then your store keeps selling as usual. "+
			"You have %s to appeal with evidence; if the appeal succeeds, the closure does not happen.",
			standing.FormatTime(eff), s.reason(l.Title), durationWords(p.EU.ClosureNotice)),
	}
}

func warningNotice(l *standing.Ledger, v Violation, s Sanction, now time.Time) Notice {
	return Notice{
		Kind: NoticeWarning, Ledger: l.Name, LedgerTitle: l.Title, ViolationID: v.ID,
		IssuedAt: now, EffectiveAt: now, Sanction: s,
		Text: fmt.Sprintf("Warning: %s, which would bring %s. As this is your first time, your store is not suspended now; "+
			"the next time your points for %s bring a suspension, it will apply. Fix the cause shown on your seller dashboard; if the violation is wrong, ask support to withdraw it.",
			s.reason(l.Title), sanctionWords(s.Sanction), lowerFirst(l.Title)),
	}
}

// hasWarning reports whether warnings hold one of ledger issued in (now-life, now].
func hasWarning(warnings []Warning, ledger string, now time.Time, life time.Duration) bool {
	for _, w := range warnings {
		if w.Ledger == ledger && !w.At.After(now) && w.At.Add(life).After(now) {
			return true
		}
	}
	return false
}

// ClosureStillDue reports whether the closure that notice n announced is still due, given
// the seller's violations as recorded now: the violation that brought it is still on
// record and, replayed with the violations recorded up to it, still brings a closure. An
// appeal that removed that violation, or enough of the earlier ones, cancels the closure.
// Points that fell off during the notice period do not: the decision was made when the
// notice was given.
func ClosureStillDue(p *standing.Policy, violations []Violation, n Notice) bool {
	if n.Kind != NoticeClosure {
		return false
	}
	l, ok := findLedger(p, n.Ledger)
	if !ok {
		return false
	}
	var trigger *Violation
	for i := range violations {
		if violations[i].ID == n.ViolationID {
			trigger = &violations[i]
			break
		}
	}
	if trigger == nil {
		return false
	}
	var mine []Violation
	for _, v := range violations {
		if v.ID != trigger.ID && ledgerOf(p, v) == l.Name && !v.At.After(trigger.At) {
			mine = append(mine, v)
		}
	}
	sortViolations(mine)
	run := newRun(l, p.Seller.PointLifetime.D(), len(mine)+1)
	for i := range mine {
		run.add(&mine[i])
	}
	for _, s := range run.add(trigger).sanctions {
		if s.Kind == KindClosure {
			return true
		}
	}
	return false
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
