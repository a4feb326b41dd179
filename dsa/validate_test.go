package dsa_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"standing"
	"standing/dsa"
)

// allowedKeys are the statement attributes of the Transparency Database's v2 submission
// format that Standing may send (the API documentation's "Statement Attributes").
var allowedKeys = map[string]bool{
	"decision_visibility": true, "decision_visibility_other": true, "end_date_visibility_restriction": true,
	"decision_monetary": true, "decision_monetary_other": true, "end_date_monetary_restriction": true,
	"decision_provision": true, "end_date_service_restriction": true,
	"decision_account": true, "end_date_account_restriction": true, "account_type": true,
	"decision_ground": true, "decision_ground_reference_url": true,
	"illegal_content_legal_ground": true, "illegal_content_explanation": true,
	"incompatible_content_ground": true, "incompatible_content_explanation": true, "incompatible_content_illegal": true,
	"content_type": true, "content_type_other": true,
	"category": true, "category_addition": true, "category_specification": true, "category_specification_other": true,
	"territorial_scope": true, "content_date": true, "application_date": true,
	"decision_facts": true, "source_type": true, "automated_detection": true, "automated_decision": true,
	"puid": true,
}

// requiredKeys must be in every statement.
var requiredKeys = []string{
	"decision_ground", "content_type", "category", "content_date", "application_date",
	"decision_facts", "source_type", "automated_detection", "automated_decision", "puid",
}

// v1Keys are the obsolete names that must never be sent.
var v1Keys = []string{"countries_list", "start_date", "source", "url", "automated_takedown", "decision_taken", "date_abolished"}

func keysOf(t *testing.T, s dsa.Statement) map[string]any {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// full sets every field of a Statement, so that every JSON key appears.
func full() dsa.Statement {
	return dsa.Statement{
		DecisionVisibility:             []string{dsa.DecisionVisibilityOther},
		DecisionVisibilityOther:        "listing hidden",
		EndDateVisibilityRestriction:   "2026-12-01",
		DecisionMonetary:               dsa.DecisionMonetaryOther,
		DecisionMonetaryOther:          "payouts delayed",
		EndDateMonetaryRestriction:     "2026-12-01",
		DecisionProvision:              dsa.DecisionProvisionPartialSuspension,
		EndDateServiceRestriction:      "2026-12-01",
		DecisionAccount:                dsa.DecisionAccountSuspended,
		EndDateAccountRestriction:      "2026-12-01",
		AccountType:                    dsa.AccountTypeBusiness,
		DecisionGround:                 dsa.DecisionGroundIncompatibleContent,
		DecisionGroundReferenceURL:     "https://marketplace.example/terms",
		IncompatibleContentGround:      "Seller terms 4.2",
		IncompatibleContentExplanation: "Selling paused.",
		IncompatibleContentIllegal:     dsa.No,
		ContentType:                    []string{dsa.ContentTypeOther, dsa.ContentTypeProduct},
		ContentTypeOther:               "account",
		Category:                       dsa.CategoryScamsAndFraud,
		CategoryAddition:               []string{dsa.CategoryOtherViolationTC},
		CategorySpecification:          []string{dsa.KeywordOther},
		CategorySpecificationOther:     "payment fraud",
		TerritorialScope:               []string{"DE", "GR", "NO"},
		ContentDate:                    "2024-03-05",
		ApplicationDate:                "2026-11-23",
		DecisionFacts:                  "Facts.",
		SourceType:                     dsa.SourceVoluntary,
		AutomatedDetection:             dsa.Yes,
		AutomatedDecision:              dsa.AutomatedDecisionFully,
		PUID:                           "rst_1",
	}
}

func TestJSONFieldNames(t *testing.T) {
	s := full()
	if err := dsa.Validate(s); err != nil {
		t.Fatalf("the full statement is invalid: %v", err)
	}
	m := keysOf(t, s)
	// The illegal-content ground has fields of its own.
	illegal := full()
	illegal.DecisionGround = dsa.DecisionGroundIllegalContent
	illegal.IncompatibleContentGround, illegal.IncompatibleContentExplanation, illegal.IncompatibleContentIllegal = "", "", ""
	illegal.IllegalContentLegalGround, illegal.IllegalContentExplanation = "A national law, Art. 5", "Explained."
	if err := dsa.Validate(illegal); err != nil {
		t.Fatalf("the illegal-content statement is invalid: %v", err)
	}
	for k, v := range keysOf(t, illegal) {
		m[k] = v
	}
	for k := range m {
		if !allowedKeys[k] {
			t.Errorf("JSON key %q is not a v2 statement attribute", k)
		}
	}
	for k := range allowedKeys {
		if _, ok := m[k]; !ok {
			t.Errorf("no Statement field writes the attribute %q", k)
		}
	}

	// A statement built from a restriction: only allowed keys, every required one, no
	// empty optional ones, no v1 names.
	p := standing.DefaultPolicy()
	for _, code := range p.ReasonCodes() {
		if code == standing.ReasonSelfDeleted {
			continue
		}
		role := standing.RoleSeller
		if reason, _ := p.Reason(code); !reason.AppliesToRole(role) {
			role = standing.RoleBuyer
		}
		r, rsn := restrict(t, p, code, role, standing.SourceRule, "")
		s, err := dsa.FromRestriction(r, rsn, created, role, dsa.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := keysOf(t, s)
		for k, v := range m {
			if !allowedKeys[k] {
				t.Errorf("%s: JSON key %q is not a v2 statement attribute", code, k)
			}
			if v == "" || v == nil {
				t.Errorf("%s: JSON key %q is empty; optional fields are left out", code, k)
			}
		}
		for _, k := range requiredKeys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: required key %q missing", code, k)
			}
		}
		for _, k := range v1Keys {
			if _, ok := m[k]; ok {
				t.Errorf("%s: obsolete v1 key %q sent", code, k)
			}
		}
		if ad, _ := m["automated_decision"].(string); !strings.HasPrefix(ad, "AUTOMATED_DECISION_") {
			t.Errorf("%s: automated_decision = %v, want a v2 value, not Yes/No", code, m["automated_decision"])
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		mutate func(*dsa.Statement)
		fields []string // every field the error names
	}{
		{"no decision at all", func(s *dsa.Statement) {
			s.DecisionVisibility, s.DecisionVisibilityOther, s.EndDateVisibilityRestriction = nil, "", ""
			s.DecisionMonetary, s.DecisionMonetaryOther, s.EndDateMonetaryRestriction = "", "", ""
			s.DecisionProvision, s.EndDateServiceRestriction = "", ""
			s.DecisionAccount, s.EndDateAccountRestriction = "", ""
		}, []string{"decision_account"}},
		{"unknown account decision", func(s *dsa.Statement) { s.DecisionAccount = "DECISION_ACCOUNT_BANNED" }, []string{"decision_account"}},
		{"unknown monetary decision", func(s *dsa.Statement) { s.DecisionMonetary = "FROZEN"; s.DecisionMonetaryOther = "" }, []string{"decision_monetary"}},
		{"unknown provision decision", func(s *dsa.Statement) { s.DecisionProvision = "DECISION_PROVISION_PAUSE" }, []string{"decision_provision"}},
		{"unknown visibility decision", func(s *dsa.Statement) {
			s.DecisionVisibility = []string{"DECISION_VISIBILITY_HIDDEN"}
			s.DecisionVisibilityOther = ""
		}, []string{"decision_visibility[0]"}},
		{"monetary other without text", func(s *dsa.Statement) { s.DecisionMonetaryOther = "" }, []string{"decision_monetary_other"}},
		{"monetary other text without OTHER", func(s *dsa.Statement) { s.DecisionMonetary = dsa.DecisionMonetarySuspension }, []string{"decision_monetary_other"}},
		{"visibility other too long", func(s *dsa.Statement) { s.DecisionVisibilityOther = long(501) }, []string{"decision_visibility_other"}},
		{"end date without its decision", func(s *dsa.Statement) { s.DecisionAccount = "" }, []string{"end_date_account_restriction"}},
		{"end date before application", func(s *dsa.Statement) { s.EndDateServiceRestriction = "2026-11-22" }, []string{"end_date_service_restriction"}},
		{"end date badly written", func(s *dsa.Statement) { s.EndDateMonetaryRestriction = "2026-12-1" }, []string{"end_date_monetary_restriction"}},
		{"unknown account type", func(s *dsa.Statement) { s.AccountType = "ACCOUNT_TYPE_PERSON" }, []string{"account_type"}},
		{"no ground", func(s *dsa.Statement) {
			s.DecisionGround = ""
			s.IncompatibleContentGround, s.IncompatibleContentExplanation, s.IncompatibleContentIllegal = "", "", ""
		}, []string{"decision_ground"}},
		{"incompatible without its ground", func(s *dsa.Statement) { s.IncompatibleContentGround = "" }, []string{"incompatible_content_ground"}},
		{"incompatible explanation too long", func(s *dsa.Statement) { s.IncompatibleContentExplanation = long(2001) }, []string{"incompatible_content_explanation"}},
		{"incompatible ground too long", func(s *dsa.Statement) { s.IncompatibleContentGround = long(501) }, []string{"incompatible_content_ground"}},
		{"incompatible_content_illegal not Yes/No", func(s *dsa.Statement) { s.IncompatibleContentIllegal = "true" }, []string{"incompatible_content_illegal"}},
		{"illegal ground without its fields", func(s *dsa.Statement) {
			s.DecisionGround = dsa.DecisionGroundIllegalContent
			s.IncompatibleContentGround, s.IncompatibleContentExplanation, s.IncompatibleContentIllegal = "", "", ""
		}, []string{"illegal_content_legal_ground", "illegal_content_explanation"}},
		{"illegal ground with the other ground's fields", func(s *dsa.Statement) {
			s.DecisionGround = dsa.DecisionGroundIllegalContent
			s.IllegalContentLegalGround, s.IllegalContentExplanation = "Art. 5 of a law", "Explained."
		}, []string{"incompatible_content_ground", "incompatible_content_explanation", "incompatible_content_illegal"}},
		{"bad reference url", func(s *dsa.Statement) { s.DecisionGroundReferenceURL = "terms page" }, []string{"decision_ground_reference_url"}},
		{"no content type", func(s *dsa.Statement) { s.ContentType = nil; s.ContentTypeOther = "" }, []string{"content_type"}},
		{"unknown content type", func(s *dsa.Statement) { s.ContentType = []string{dsa.ContentTypeOther, "CONTENT_TYPE_ACCOUNT"} }, []string{"content_type[1]"}},
		{"content type other without text", func(s *dsa.Statement) { s.ContentTypeOther = "" }, []string{"content_type_other"}},
		{"content type other text without OTHER", func(s *dsa.Statement) { s.ContentType = []string{dsa.ContentTypeText} }, []string{"content_type_other"}},
		{"no category", func(s *dsa.Statement) { s.Category = "" }, []string{"category"}},
		{"unknown category", func(s *dsa.Statement) { s.Category = "STATEMENT_CATEGORY_FRAUD" }, []string{"category"}},
		{"unknown additional category", func(s *dsa.Statement) { s.CategoryAddition = []string{"SCAMS"} }, []string{"category_addition[0]"}},
		{"unknown keyword", func(s *dsa.Statement) { s.CategorySpecification = []string{dsa.KeywordOther, "KEYWORD_FRAUD"} }, []string{"category_specification[1]"}},
		{"keyword other text without KEYWORD_OTHER", func(s *dsa.Statement) {
			s.CategorySpecification = []string{dsa.KeywordInauthenticAccounts}
		}, []string{"category_specification_other"}},
		{"country outside the EEA", func(s *dsa.Statement) { s.TerritorialScope = []string{"DE", "CH", "EL"} }, []string{"territorial_scope[1]", "territorial_scope[2]"}},
		{"no content date", func(s *dsa.Statement) { s.ContentDate = "" }, []string{"content_date"}},
		{"content date before 2000", func(s *dsa.Statement) { s.ContentDate = "1999-12-31" }, []string{"content_date"}},
		{"application date with a time", func(s *dsa.Statement) { s.ApplicationDate = "2026-11-23T09:15:00Z" }, []string{"application_date"}},
		{"application date before 2020", func(s *dsa.Statement) {
			s.ApplicationDate = "2019-12-31"
		}, []string{"application_date"}},
		{"no facts", func(s *dsa.Statement) { s.DecisionFacts = "" }, []string{"decision_facts"}},
		{"facts too long", func(s *dsa.Statement) { s.DecisionFacts = long(5001) }, []string{"decision_facts"}},
		{"no source", func(s *dsa.Statement) { s.SourceType = "" }, []string{"source_type"}},
		{"v1 source value", func(s *dsa.Statement) { s.SourceType = "SOURCE_VOLUNTARY_OWN" }, []string{"source_type"}},
		{"automated_detection not Yes/No", func(s *dsa.Statement) { s.AutomatedDetection = "yes" }, []string{"automated_detection"}},
		{"v1 automated_decision", func(s *dsa.Statement) { s.AutomatedDecision = "Yes" }, []string{"automated_decision"}},
		{"no puid", func(s *dsa.Statement) { s.PUID = "" }, []string{"puid"}},
		{"puid with a space", func(s *dsa.Statement) { s.PUID = "rst 1" }, []string{"puid"}},
		{"puid with a slash", func(s *dsa.Statement) { s.PUID = "rst/1" }, []string{"puid"}},
		{"puid too long", func(s *dsa.Statement) { s.PUID = long(501) }, []string{"puid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := full()
			tt.mutate(&s)
			err := dsa.Validate(s)
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			if standing.ErrorCode(err) != standing.EINVALID {
				t.Errorf("code = %q, want invalid", standing.ErrorCode(err))
			}
			if got := dsa.Problems(err); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
			if standing.ErrorField(err) != tt.fields[0] {
				t.Errorf("ErrorField = %q, want %q", standing.ErrorField(err), tt.fields[0])
			}
		})
	}
}

func TestValidateAcceptsLimits(t *testing.T) {
	s := full()
	s.DecisionFacts = strings.Repeat("é", 5000) // characters, not bytes
	s.IncompatibleContentExplanation = strings.Repeat("x", 2000)
	s.IncompatibleContentGround = strings.Repeat("x", 500)
	s.PUID = strings.Repeat("a-_Z9", 100)
	s.EndDateAccountRestriction = s.ApplicationDate // the same day is allowed
	s.ContentDate = "2000-01-01"
	if err := dsa.Validate(s); err != nil {
		t.Errorf("Validate at the limits: %v", err)
	}
}
