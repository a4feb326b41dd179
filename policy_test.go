package standing_test

import (
	"strings"
	"testing"
	"time"

	"standing"
)

func TestAppealClosesAt(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 14, 30, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		window  standing.Duration
		decided time.Time
		want    time.Time
	}{
		// 180 days from 1 March is 28 August: six months (1 September) is later.
		{"default window, six months win", 180 * 24 * standing.Duration(time.Hour), date(2026, 3, 1), date(2026, 9, 1)},
		// From 1 January six months hold 181 days (182 in a leap year).
		{"default window from New Year", 180 * 24 * standing.Duration(time.Hour), date(2026, 1, 1), date(2026, 7, 1)},
		{"leap year", 180 * 24 * standing.Duration(time.Hour), date(2028, 1, 1), date(2028, 7, 1)},
		// A month of 31 days with no match six months on: never less than six months.
		{"31 August", 180 * 24 * standing.Duration(time.Hour), date(2026, 8, 31), date(2027, 3, 3)},
		// An operator's longer window wins over the law.
		{"a year's window", 365 * 24 * standing.Duration(time.Hour), date(2026, 3, 1), date(2027, 3, 1)},
		// A shorter window cannot shorten the law's six months.
		{"30-day window", 30 * 24 * standing.Duration(time.Hour), date(2026, 3, 1), date(2026, 9, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := standing.DefaultPolicy()
			p.Appeals.Window = tt.window
			got := p.AppealClosesAt(tt.decided)
			if !got.Equal(tt.want) {
				t.Errorf("AppealClosesAt(%s) with window %s = %s, want %s", tt.decided, tt.window, got, tt.want)
			}
			if six := tt.decided.AddDate(0, 6, 0); got.Before(six) {
				t.Errorf("AppealClosesAt = %s, before six months after the decision (%s)", got, six)
			}
		})
	}
	// Every start date of a year: the default policy never closes before six months.
	p := standing.DefaultPolicy()
	for d := date(2026, 1, 1); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if got := p.AppealClosesAt(d); got.Before(d.AddDate(0, 6, 0)) {
			t.Fatalf("decided %s: closes %s, before six months", d, got)
		}
	}
}

// TestValidateCatalogDSAFields refuses, when the policy loads, a reason whose words could
// not make a valid statement of reasons, naming the reason and the setting.
func TestValidateCatalogDSAFields(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		mutate func(r *standing.Reason)
		field  string // "" when valid
	}{
		{"defaults", func(r *standing.Reason) {}, ""},
		{"no category falls back", func(r *standing.Reason) { r.DSACategory = "" }, ""},
		{"unknown category", func(r *standing.Reason) { r.DSACategory = "STATEMENT_CATEGORY_FRAUD" }, "reasons[1].dsa_category"},
		{"ground of 500", func(r *standing.Reason) { r.DSAGround = long(500) }, ""},
		{"ground of 501", func(r *standing.Reason) { r.DSAGround = long(501) }, "reasons[1].dsa_ground"},
		{"ground of 500 letters with accents", func(r *standing.Reason) { r.DSAGround = strings.Repeat("é", 500) }, ""},
		{"no ground, long title", func(r *standing.Reason) { r.DSAGround, r.Title = "", long(483) }, "reasons[1].title"},
		{"no ground, title that fits", func(r *standing.Reason) { r.DSAGround, r.Title = "", long(482) }, ""},
		{"message and remedy too long", func(r *standing.Reason) { r.Message, r.Remedy = long(2500), long(1600) }, "reasons[1].message"},
		{"message and remedy at the limit", func(r *standing.Reason) {
			// "{until}" is measured as a person reads it: "until 28 Sep 2026, 14:00 UTC".
			r.Message = long(4000-len(r.Title)-len("until 28 Sep 2026, 14:00 UTC")-100) + "{until}"
			r.Remedy = long(100)
		}, ""},
		{"message one over the limit", func(r *standing.Reason) {
			r.Message = long(4000-len(r.Title)-len("until 28 Sep 2026, 14:00 UTC")-100) + "{until}"
			r.Remedy = long(101)
		}, "reasons[1].message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := standing.DefaultPolicy()
			if p.Reasons[1].Code != standing.ReasonRiskReview {
				t.Fatalf("reasons[1] is %s", p.Reasons[1].Code)
			}
			tt.mutate(&p.Reasons[1])
			err := p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tt.field {
				t.Fatalf("Validate = %v, want invalid %s", err, tt.field)
			}
			if !strings.Contains(standing.ErrorMessage(err), `"risk_review"`) {
				t.Errorf("the error does not name the reason: %v", err)
			}
		})
	}
}

// TestVerificationDeadlineInWords: the email_unverified message states the policy's
// deadline, so an operator who changes the deadline changes the words too.
func TestVerificationDeadlineInWords(t *testing.T) {
	for _, tt := range []struct {
		deadline standing.Duration
		want     string
	}{
		{standing.Duration(72 * time.Hour), "within 72 hours of signing up"},
		{standing.Duration(48 * time.Hour), "within 48 hours of signing up"},
		{standing.Duration(7 * 24 * time.Hour), "within 7 days of signing up"},
	} {
		p := standing.DefaultPolicy()
		p.VerificationDeadline = tt.deadline
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		reason, _ := p.Reason(standing.ReasonEmailUnverified)
		r, err := standing.NewRestriction{ReasonCode: standing.ReasonEmailUnverified, Source: standing.SourceSystem}.Resolve(p, "acc_1", standing.RoleBuyer, t0)
		if err != nil {
			t.Fatal(err)
		}
		for name, msg := range map[string]string{"restriction": r.Message, "catalog": reason.RenderMessage(nil)} {
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "{") {
				t.Errorf("deadline %s: %s message %q, want %q", tt.deadline, name, msg, tt.want)
			}
		}
	}
}

func TestDurationWords(t *testing.T) {
	for in, want := range map[time.Duration]string{
		72 * time.Hour:       "72 hours",
		time.Hour:            "1 hour",
		24 * time.Hour:       "24 hours",
		96 * time.Hour:       "4 days",
		7 * 24 * time.Hour:   "7 days",
		30 * time.Minute:     "30 minutes",
		time.Minute:          "1 minute",
		90 * time.Second:     "1m30s",
		180 * 24 * time.Hour: "180 days",
		100*time.Hour + 30e9: "100h0m30s",
		73 * time.Hour:       "73 hours",
		-time.Hour:           "-1h0m0s",
	} {
		if got := standing.Duration(in).Words(); got != want {
			t.Errorf("Duration(%s).Words() = %q, want %q", in, got, want)
		}
	}
}

// TestFineCurrency: a policy's fine is in the currency it names, USD when it names none;
// a currency on another sanction, or one that is not an ISO 4217 code in capitals, is
// refused naming the setting.
func TestFineCurrency(t *testing.T) {
	if got := (standing.Sanction{Kind: "fine", Amount: 100}).FineCurrency(); got != "USD" {
		t.Errorf("default fine currency = %s", got)
	}
	if got := (standing.Sanction{Kind: "fine", Amount: 100, Currency: "EUR"}).FineCurrency(); got != "EUR" {
		t.Errorf("fine currency = %s", got)
	}
	for _, bad := range []standing.Sanction{
		{Kind: "fine", Amount: 100, Currency: "eur"},
		{Kind: "fine", Amount: 100, Currency: "EURO"},
		{Kind: "suspension", Duration: standing.Duration(24 * time.Hour), Currency: "EUR"},
	} {
		p := standing.DefaultPolicy()
		p.Seller.Ledgers[0].Thresholds = append(p.Seller.Ledgers[0].Thresholds, standing.Threshold{Points: 99, Sanction: bad})
		if err := p.Validate(); standing.ErrorCode(err) != standing.EINVALID || !strings.HasSuffix(standing.ErrorField(err), ".currency") {
			t.Errorf("sanction %+v: Validate = %v (field %q), want invalid naming its currency", bad, err, standing.ErrorField(err))
		}
	}
}
