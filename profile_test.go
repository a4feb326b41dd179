package standing_test

import (
	"slices"
	"testing"

	"standing"
)

func TestProfileChangeApply(t *testing.T) {
	str := func(s string) *string { return &s }
	a := standing.Account{ID: "acc_1", Name: "Ana", Phone: "+4915112345678", Country: "DE"}
	for _, tc := range []struct {
		name    string
		c       standing.ProfileChange
		want    standing.Account
		changed []string
	}{
		{"nothing set", standing.ProfileChange{}, a, nil},
		{"the same values", standing.ProfileChange{Name: str("Ana"), Country: str("DE")}, a, nil},
		{"a new phone", standing.ProfileChange{Phone: str("+4915199999999")},
			standing.Account{ID: "acc_1", Name: "Ana", Phone: "+4915199999999", Country: "DE"}, []string{"phone"}},
		{"cleared name and country", standing.ProfileChange{Name: str(""), Phone: str("+4915112345678"), Country: str("")},
			standing.Account{ID: "acc_1", Phone: "+4915112345678"}, []string{"name", "country"}},
	} {
		got, changed := tc.c.Apply(a)
		if got != tc.want || !slices.Equal(changed, tc.changed) {
			t.Errorf("%s: Apply = %+v %v, want %+v %v", tc.name, got, changed, tc.want, tc.changed)
		}
	}
	if got := standing.ProfileValues(a, []string{"phone", "country"}); len(got) != 2 || got["phone"] != a.Phone || got["country"] != "DE" {
		t.Errorf("ProfileValues = %v", got)
	}
}
