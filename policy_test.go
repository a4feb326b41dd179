package standing_test

import (
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
