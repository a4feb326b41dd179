package standing

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The limits of the EU Transparency Database (DSA Art. 24(5)) that a reason's words must
// fit: each restriction becomes a statement of reasons built from its catalog entry, and
// the database refuses a statement that breaks one. Policy.Validate checks the catalog
// against them, so an operator's reason that could never be exported is refused when the
// policy loads, not when a statement is sent.
const (
	// MaxDSAGroundLen bounds incompatible_content_ground: a reason's DSAGround, or
	// "Terms of service: " and its title when it has none.
	MaxDSAGroundLen = 500
	// MaxDSAFactsLen bounds decision_facts, which holds the reason's title, its message as
	// the person saw it and its remedy, around words of Standing's own.
	MaxDSAFactsLen = 5000
	// DSAFactsReserve is the part of decision_facts kept for Standing's own words (how the
	// restriction was detected and decided, the remedies the law lists). The catalog's
	// title, message and remedy share the rest; package dsa's tests check that its own
	// words fit in the reserve.
	DSAFactsReserve = 1000
)

// dsaGroundPrefix is what a statement's ground says when a reason has no DSAGround.
const dsaGroundPrefix = "Terms of service: "

// DSAGroundOf returns the ground a statement of reasons gives for reason r: its DSAGround,
// or "Terms of service: " and its title when it has none.
func DSAGroundOf(r *Reason) string {
	if g := strings.TrimSpace(r.DSAGround); g != "" {
		return g
	}
	return dsaGroundPrefix + r.Title
}

// dsaCategories are the statement categories the Transparency Database accepts (schema v2).
var dsaCategories = []string{
	"STATEMENT_CATEGORY_ANIMAL_WELFARE",
	"STATEMENT_CATEGORY_CONSUMER_INFORMATION",
	"STATEMENT_CATEGORY_CYBER_VIOLENCE",
	"STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
	"STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
	"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
	"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
	"STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
	"STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
	"STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
	"STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
	"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
	"STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
	"STATEMENT_CATEGORY_SELF_HARM",
	"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
	"STATEMENT_CATEGORY_VIOLENCE",
}

// DSACategories lists the statement categories a reason's DSACategory may name.
func DSACategories() []string { return slices.Clone(dsaCategories) }

// ValidDSACategory reports whether c is an allowed statement category.
func ValidDSACategory(c string) bool { return slices.Contains(dsaCategories, c) }

// dsaSampleEnd is an end time with the longest written form, to measure a message as a
// person sees it: "{until}" becomes "until 28 Sep 2026, 14:00 UTC".
var dsaSampleEnd = time.Date(2026, 9, 28, 14, 0, 0, 0, time.UTC)

// checkDSA checks that the reason's words fit a statement of reasons: its category is an
// allowed one (or empty, for STATEMENT_CATEGORY_OTHER_VIOLATION_TC), its ground fits, and
// its title, message and remedy leave decision_facts the reserve for Standing's words.
// The message is measured as rendered, so p's placeholders count at their real length.
func (r *Reason) checkDSA(field string) error {
	if r.DSACategory != "" && !ValidDSACategory(r.DSACategory) {
		return FieldErrorf(EINVALID, field+".dsa_category", "reason %q: dsa_category %q is not a statement category of the EU Transparency Database; use one of %s, or leave it out for STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
			r.Code, r.DSACategory, strings.Join(dsaCategories, ", "))
	}
	if n := utf8.RuneCountInString(DSAGroundOf(r)); n > MaxDSAGroundLen {
		if strings.TrimSpace(r.DSAGround) == "" {
			return FieldErrorf(EINVALID, field+".title", "reason %q has no dsa_ground, so its statements give %q and its title as the ground, %d characters; the EU Transparency Database takes at most %d: shorten the title or give a dsa_ground",
				r.Code, dsaGroundPrefix, n, MaxDSAGroundLen)
		}
		return FieldErrorf(EINVALID, field+".dsa_ground", "reason %q: dsa_ground has %d characters; the EU Transparency Database takes at most %d", r.Code, n, MaxDSAGroundLen)
	}
	words := utf8.RuneCountInString(r.Title) + utf8.RuneCountInString(r.RenderMessage(&dsaSampleEnd)) + utf8.RuneCountInString(r.Remedy)
	if limit := MaxDSAFactsLen - DSAFactsReserve; words > limit {
		return FieldErrorf(EINVALID, field+".message", "reason %q: its title, message and remedy have %d characters together; a statement of reasons (decision_facts) holds %d, of which %d are for the catalog's words",
			r.Code, words, MaxDSAFactsLen, limit)
	}
	return nil
}
