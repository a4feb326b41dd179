package standing

import (
	"time"
)

// Source says what put a restriction on an account.
type Source string

// The sources.
const (
	SourceRule     Source = "rule"
	SourceReviewer Source = "reviewer"
	SourceSystem   Source = "system"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return s == SourceRule || s == SourceReviewer || s == SourceSystem }

// RestrictionState is where a restriction is in its life. Lifting or expiry ends a
// restriction; nothing deletes one.
//
//	stateDiagram-v2
//	    [*] --> active
//	    active --> lifted: lifted by a reviewer, an appeal or the person's remedy
//	    active --> expired: its end time passed
type RestrictionState string

// The restriction states.
const (
	RestrictionActive  RestrictionState = "active"
	RestrictionLifted  RestrictionState = "lifted"
	RestrictionExpired RestrictionState = "expired"
)

// Restriction is one enforcement action on one account.
type Restriction struct {
	ID         string           `json:"id"`
	AccountID  string           `json:"account_id"`
	ReasonCode string           `json:"reason_code"`
	Title      string           `json:"title"`
	Removes    CapabilitySet    `json:"removes"`
	Source     Source           `json:"source"`
	Actor      string           `json:"actor"`
	Note       string           `json:"note,omitempty"`
	Severity   int              `json:"severity"`
	Appealable bool             `json:"appealable"`
	Message    string           `json:"message"`
	Remedy     string           `json:"remedy"`
	StartsAt   time.Time        `json:"starts_at"`
	EndsAt     *time.Time       `json:"ends_at"`
	State      RestrictionState `json:"state"`
	EndedAt    *time.Time       `json:"ended_at,omitempty"`
	EndedBy    string           `json:"ended_by,omitempty"`
	EndNote    string           `json:"end_note,omitempty"`
	RuleID     string           `json:"rule_id,omitempty"`
	OrderID    string           `json:"order_id,omitempty"`
	CreatedAt  time.Time        `json:"created_at"`
}

// ActiveAt reports whether r takes effect at now: not ended, started, and not past its end.
func (r *Restriction) ActiveAt(now time.Time) bool {
	return r.State == RestrictionActive && !now.Before(r.StartsAt) && (r.EndsAt == nil || now.Before(*r.EndsAt))
}

// NewRestriction is a request to restrict an account.
type NewRestriction struct {
	ReasonCode string     `json:"reason_code"`
	EndsAt     *time.Time `json:"ends_at,omitempty"`
	// Duration is an alternative to EndsAt ("7d", "72h").
	Duration string `json:"duration,omitempty"`
	Note     string `json:"note,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Source   Source `json:"source,omitempty"`
	// Removes overrides the catalog's capabilities (a seller sanction may remove fewer).
	Removes *CapabilitySet `json:"removes,omitempty"`
	// Message overrides the catalog's message template.
	Message string `json:"message,omitempty"`
	RuleID  string `json:"rule_id,omitempty"`
	OrderID string `json:"order_id,omitempty"`
}

func (n *NewRestriction) validate(prefix string) error {
	if n.ReasonCode == "" {
		return FieldErrorf(EINVALID, prefix+"reason_code", "reason_code is required")
	}
	if len(n.Note) > MaxNoteLen {
		return FieldErrorf(EINVALID, prefix+"note", "note is longer than %d characters", MaxNoteLen)
	}
	if len(n.Message) > MaxNoteLen {
		return FieldErrorf(EINVALID, prefix+"message", "message is longer than %d characters", MaxNoteLen)
	}
	if len(n.Actor) > MaxActorLen {
		return FieldErrorf(EINVALID, prefix+"actor", "actor is longer than %d characters", MaxActorLen)
	}
	if n.Source != "" && !n.Source.Valid() {
		return FieldErrorf(EINVALID, prefix+"source", "source must be rule, reviewer or system, not %q", n.Source)
	}
	if n.EndsAt != nil && n.Duration != "" {
		return FieldErrorf(EINVALID, prefix+"duration", "give ends_at or duration, not both")
	}
	if n.Duration != "" {
		d, err := ParseDuration(n.Duration)
		if err != nil || d <= 0 {
			return FieldErrorf(EINVALID, prefix+"duration", "duration must be positive, like 7d or 72h, not %q", n.Duration)
		}
	}
	return nil
}

// Resolve checks n against the catalog for an account of role at now and returns the
// restriction to write (without ID). Errors name the offending field.
func (n NewRestriction) Resolve(p *Policy, accountID string, role Role, now time.Time) (Restriction, error) {
	if err := n.validate(""); err != nil {
		return Restriction{}, err
	}
	reason, ok := p.Reason(n.ReasonCode)
	if !ok {
		return Restriction{}, FieldErrorf(EINVALID, "reason_code", "unknown reason code %q", n.ReasonCode)
	}
	if !reason.AppliesToRole(role) {
		return Restriction{}, FieldErrorf(EINVALID, "reason_code", "reason %q applies to %s accounts, and this account is a %s", n.ReasonCode, reason.AppliesTo, role)
	}
	r := Restriction{
		AccountID:  accountID,
		ReasonCode: reason.Code,
		Title:      reason.Title,
		Removes:    reason.Removes,
		Source:     n.Source,
		Actor:      n.Actor,
		Note:       n.Note,
		Severity:   reason.Severity,
		Appealable: reason.Appealable,
		Remedy:     reason.Remedy,
		StartsAt:   now,
		State:      RestrictionActive,
		RuleID:     n.RuleID,
		OrderID:    n.OrderID,
		CreatedAt:  now,
	}
	if r.Source == "" {
		r.Source = SourceReviewer
	}
	if r.Actor == "" {
		r.Actor = "api"
	}
	if n.Removes != nil {
		r.Removes = *n.Removes
	}
	switch {
	case n.EndsAt != nil:
		if !n.EndsAt.After(now) {
			return Restriction{}, FieldErrorf(EINVALID, "ends_at", "ends_at %s is not in the future", n.EndsAt.UTC().Format(time.RFC3339))
		}
		e := n.EndsAt.UTC()
		r.EndsAt = &e
	case n.Duration != "":
		d, _ := ParseDuration(n.Duration)
		e := now.Add(d.D())
		r.EndsAt = &e
	case reason.DefaultDuration > 0:
		e := now.Add(reason.DefaultDuration.D())
		r.EndsAt = &e
	}
	tmpl := reason.Message
	if n.Message != "" {
		tmpl = n.Message
	}
	r.Message = reason.Render(tmpl, r.EndsAt)
	return r, nil
}

// LiftRequest is a request to end a restriction before its time.
type LiftRequest struct {
	Note  string `json:"note,omitempty"`
	Actor string `json:"actor,omitempty"`
}

// Validate checks the lift request.
func (l *LiftRequest) Validate() error {
	if len(l.Note) > MaxNoteLen {
		return FieldErrorf(EINVALID, "note", "note is longer than %d characters", MaxNoteLen)
	}
	if len(l.Actor) > MaxActorLen {
		return FieldErrorf(EINVALID, "actor", "actor is longer than %d characters", MaxActorLen)
	}
	if l.Actor == "" {
		l.Actor = "api"
	}
	return nil
}
