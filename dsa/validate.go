package dsa

import (
	"errors"
	"fmt"
	"time"

	"standing"
)

// The length limits of the Transparency Database, in characters.
const (
	MaxOtherLen       = 500  // *_other fields, grounds, the reference URL
	MaxExplanationLen = 2000 // illegal_content_explanation, incompatible_content_explanation
	MaxFactsLen       = 5000 // decision_facts
)

// The earliest dates the Transparency Database accepts.
var (
	minContentDate     = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	minApplicationDate = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate checks s against the Transparency Database's validation rules (v2):
//
//   - at least one of decision_visibility, decision_monetary, decision_provision and
//     decision_account, each with an allowed value; decision_visibility_other and
//     decision_monetary_other exactly when the OTHER value is chosen; each end date only
//     with its decision, on or after application_date;
//   - decision_ground, with illegal_content_legal_ground (≤ 500) and
//     illegal_content_explanation (≤ 2000) for illegal content, or
//     incompatible_content_ground (≤ 500) and incompatible_content_explanation (≤ 2000) and
//     an optional incompatible_content_illegal Yes/No for incompatible content — and not
//     the other ground's fields;
//   - content_type (non-empty, allowed values, content_type_other ≤ 500 exactly with
//     CONTENT_TYPE_OTHER); category and category_addition from the allowed categories;
//     category_specification from the keywords, category_specification_other only with
//     KEYWORD_OTHER; territorial_scope from the EU/EEA codes; account_type if given;
//   - content_date (on or after 2000-01-01) and application_date (on or after 2020-01-01)
//     as YYYY-MM-DD with leading zeroes;
//   - decision_facts (≤ 5000), source_type, automated_detection Yes/No, automated_decision;
//   - puid: 1 to 500 characters of a-z, A-Z, 0-9, '-' and '_';
//   - decision_ground_reference_url, if given, an http(s) URL of at most 500 characters.
//
// It returns nil or every problem found, joined; each is a *standing.Error with code
// EINVALID naming its field (errors.As finds the first; Problems lists them all).
func Validate(s Statement) error {
	var v validator

	// Decisions.
	if len(s.DecisionVisibility) == 0 && s.DecisionMonetary == "" && s.DecisionProvision == "" && s.DecisionAccount == "" {
		v.add("decision_account", "at least one of decision_visibility, decision_monetary, decision_provision and decision_account is required")
	}
	hasVisibilityOther := false
	for i, d := range s.DecisionVisibility {
		v.oneOf(fmt.Sprintf("decision_visibility[%d]", i), d, decisionVisibilities)
		hasVisibilityOther = hasVisibilityOther || d == DecisionVisibilityOther
	}
	v.dependent("decision_visibility_other", s.DecisionVisibilityOther, hasVisibilityOther, "decision_visibility holds DECISION_VISIBILITY_OTHER", MaxOtherLen)
	if s.DecisionMonetary != "" {
		v.oneOf("decision_monetary", s.DecisionMonetary, decisionMonetaries)
	}
	v.dependent("decision_monetary_other", s.DecisionMonetaryOther, s.DecisionMonetary == DecisionMonetaryOther, "decision_monetary is DECISION_MONETARY_OTHER", MaxOtherLen)
	if s.DecisionProvision != "" {
		v.oneOf("decision_provision", s.DecisionProvision, decisionProvisions)
	}
	if s.DecisionAccount != "" {
		v.oneOf("decision_account", s.DecisionAccount, decisionAccounts)
	}
	if s.AccountType != "" {
		v.oneOf("account_type", s.AccountType, accountTypes)
	}

	// Ground.
	if v.required("decision_ground", s.DecisionGround) {
		v.oneOf("decision_ground", s.DecisionGround, decisionGrounds)
	}
	illegal := s.DecisionGround == DecisionGroundIllegalContent
	incompatible := s.DecisionGround == DecisionGroundIncompatibleContent
	v.dependent("illegal_content_legal_ground", s.IllegalContentLegalGround, illegal, "decision_ground is DECISION_GROUND_ILLEGAL_CONTENT", MaxOtherLen)
	v.dependent("illegal_content_explanation", s.IllegalContentExplanation, illegal, "decision_ground is DECISION_GROUND_ILLEGAL_CONTENT", MaxExplanationLen)
	v.dependent("incompatible_content_ground", s.IncompatibleContentGround, incompatible, "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT", MaxOtherLen)
	v.dependent("incompatible_content_explanation", s.IncompatibleContentExplanation, incompatible, "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT", MaxExplanationLen)
	if s.IncompatibleContentIllegal != "" {
		if !incompatible {
			v.add("incompatible_content_illegal", "incompatible_content_illegal is given only when decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT")
		} else {
			v.oneOf("incompatible_content_illegal", s.IncompatibleContentIllegal, yesNo)
		}
	}
	if s.DecisionGroundReferenceURL != "" && (!validURL(s.DecisionGroundReferenceURL) || chars(s.DecisionGroundReferenceURL) > MaxOtherLen) {
		v.add("decision_ground_reference_url", "decision_ground_reference_url must be an http(s) URL of at most %d characters", MaxOtherLen)
	}

	// Content and category.
	hasContentOther := false
	if len(s.ContentType) == 0 {
		v.add("content_type", "content_type is required: a list of at least one content type")
	}
	for i, c := range s.ContentType {
		v.oneOf(fmt.Sprintf("content_type[%d]", i), c, contentTypes)
		hasContentOther = hasContentOther || c == ContentTypeOther
	}
	v.dependent("content_type_other", s.ContentTypeOther, hasContentOther, "content_type holds CONTENT_TYPE_OTHER", MaxOtherLen)
	if v.required("category", s.Category) {
		v.oneOf("category", s.Category, categories)
	}
	for i, c := range s.CategoryAddition {
		v.oneOf(fmt.Sprintf("category_addition[%d]", i), c, categories)
	}
	hasKeywordOther := false
	for i, k := range s.CategorySpecification {
		v.oneOf(fmt.Sprintf("category_specification[%d]", i), k, keywords)
		hasKeywordOther = hasKeywordOther || k == KeywordOther
	}
	if s.CategorySpecificationOther != "" {
		if !hasKeywordOther {
			v.add("category_specification_other", "category_specification_other is given only when category_specification holds KEYWORD_OTHER")
		} else if chars(s.CategorySpecificationOther) > MaxOtherLen {
			v.add("category_specification_other", "category_specification_other is longer than %d characters", MaxOtherLen)
		}
	}
	for i, c := range s.TerritorialScope {
		v.oneOf(fmt.Sprintf("territorial_scope[%d]", i), c, territories)
	}

	// Dates.
	v.date("content_date", s.ContentDate, true, minContentDate)
	application, appOK := v.date("application_date", s.ApplicationDate, true, minApplicationDate)
	for _, e := range []struct{ field, value, decision, decisionField string }{
		{"end_date_account_restriction", s.EndDateAccountRestriction, s.DecisionAccount, "decision_account"},
		{"end_date_monetary_restriction", s.EndDateMonetaryRestriction, s.DecisionMonetary, "decision_monetary"},
		{"end_date_service_restriction", s.EndDateServiceRestriction, s.DecisionProvision, "decision_provision"},
		{"end_date_visibility_restriction", s.EndDateVisibilityRestriction, firstOrEmpty(s.DecisionVisibility), "decision_visibility"},
	} {
		if e.value == "" {
			continue
		}
		if e.decision == "" {
			v.add(e.field, "%s is given only with %s", e.field, e.decisionField)
			continue
		}
		if d, ok := v.date(e.field, e.value, false, time.Time{}); ok && appOK && d.Before(application) {
			v.add(e.field, "%s %s is before application_date %s", e.field, e.value, s.ApplicationDate)
		}
	}

	// Facts, source, automation, puid.
	if v.required("decision_facts", s.DecisionFacts) && chars(s.DecisionFacts) > MaxFactsLen {
		v.add("decision_facts", "decision_facts is longer than %d characters", MaxFactsLen)
	}
	if v.required("source_type", s.SourceType) {
		v.oneOf("source_type", s.SourceType, sourceTypes)
	}
	if v.required("automated_detection", s.AutomatedDetection) {
		v.oneOf("automated_detection", s.AutomatedDetection, yesNo)
	}
	if v.required("automated_decision", s.AutomatedDecision) {
		v.oneOf("automated_decision", s.AutomatedDecision, automatedDecisions)
	}
	if v.required("puid", s.PUID) && (len(s.PUID) > MaxPUIDLen || !puidPattern.MatchString(s.PUID)) {
		v.add("puid", "puid must be 1 to %d characters of a-z, A-Z, 0-9, '-' and '_'", MaxPUIDLen)
	}
	return errors.Join(v.errs...)
}

// Problems lists the fields a Validate error names, in order.
func Problems(err error) []string {
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
				out = append(out, se.Field)
			}
		}
	}
	walk(err)
	return out
}

type validator struct{ errs []error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, standing.FieldErrorf(standing.EINVALID, field, format, args...))
}

// required reports whether value is set, recording an error if not.
func (v *validator) required(field, value string) bool {
	if value == "" {
		v.add(field, "%s is required", field)
		return false
	}
	return true
}

func (v *validator) oneOf(field, value string, allowed map[string]bool) {
	if !allowed[value] {
		v.add(field, "%s: %q is not an allowed value", field, value)
	}
}

// dependent checks a field that is required when cond holds and must be absent otherwise.
func (v *validator) dependent(field, value string, cond bool, when string, limit int) {
	switch {
	case cond && value == "":
		v.add(field, "%s is required when %s", field, when)
	case !cond && value != "":
		v.add(field, "%s is given only when %s", field, when)
	case chars(value) > limit:
		v.add(field, "%s is longer than %d characters", field, limit)
	}
}

// date checks a YYYY-MM-DD date, required or not, on or after earliest.
func (v *validator) date(field, value string, required bool, earliest time.Time) (time.Time, bool) {
	if value == "" {
		if required {
			v.add(field, "%s is required", field)
		}
		return time.Time{}, false
	}
	t, err := time.Parse(dateLayout, value)
	if err != nil || len(value) != len(dateLayout) {
		v.add(field, "%s must be a date written YYYY-MM-DD with leading zeroes, not %q", field, value)
		return time.Time{}, false
	}
	if t.Before(earliest) {
		v.add(field, "%s must be on or after %s", field, earliest.Format(dateLayout))
		return t, false
	}
	return t, true
}

func firstOrEmpty(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
