package dsa

import (
	"errors"
	"strings"
	"time"

	"standing"
)

// Row is one restriction to export, with what its statement needs of the account.
type Row struct {
	Restriction    standing.Restriction
	AccountCreated time.Time
	Role           standing.Role
}

// Skip is a restriction an export left out because no valid statement could be made of
// it. It names the restriction and the fields at fault, never the account's data.
type Skip struct {
	RestrictionID string `json:"restriction_id"`
	ReasonCode    string `json:"reason_code"`
	// Fields are the statement fields at fault (Problems), when validation failed.
	Fields []string `json:"fields,omitempty"`
	// Problem says what was wrong, in words.
	Problem string `json:"problem"`
}

// Page gathers the statements of one answer of an export, and the restrictions it had to
// leave out. One bad statement (an operator's reason whose words do not fit, an account
// with a bad registration date) then costs that statement, not the whole page.
type Page struct {
	Statements []Statement
	Skipped    []Skip
}

// Add makes the statement of row with the catalog of p and adds it to the page, reporting
// whether it did. A restriction that is not a moderation decision (ErrNotADecision) is
// left out without a word. One whose reason is not in p's catalog, or whose statement
// FromRestriction refuses (bad input, or a statement that fails Validate), is left out and
// listed in Skipped.
func (pg *Page) Add(p *standing.Policy, row Row, opts Options) bool {
	r := row.Restriction
	reason, ok := p.Reason(r.ReasonCode)
	if !ok {
		pg.Skipped = append(pg.Skipped, Skip{RestrictionID: r.ID, ReasonCode: r.ReasonCode,
			Problem: "the reason " + r.ReasonCode + " is no longer in the policy's catalog"})
		return false
	}
	s, err := FromRestriction(r, reason, row.AccountCreated, row.Role, opts)
	switch {
	case errors.Is(err, ErrNotADecision):
		return false
	case err != nil:
		pg.Skipped = append(pg.Skipped, Skip{RestrictionID: r.ID, ReasonCode: r.ReasonCode, Fields: Problems(err),
			Problem: strings.Join(messages(err), "; ")})
		return false
	}
	pg.Statements = append(pg.Statements, s)
	return true
}

// Submission returns the page's statements as a submission body: an empty list, not null,
// when there are none.
func (pg *Page) Submission() Submission {
	if pg.Statements == nil {
		return Submission{Statements: []Statement{}}
	}
	return Submission{Statements: pg.Statements}
}

// messages lists the messages of the *standing.Error values err joins, in order.
func messages(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		var se *standing.Error
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		default:
			if errors.As(err, &se) {
				out = append(out, se.Message)
			} else {
				out = append(out, err.Error())
			}
		}
	}
	walk(err)
	if len(out) == 0 {
		out = append(out, err.Error())
	}
	return out
}
