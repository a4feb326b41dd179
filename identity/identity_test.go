package identity_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"standing"
	"standing/identity"
)

func TestEmail(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Ana@Example.COM", "ana@example.com"},
		{"  bob@example.com ", "bob@example.com"},
		{"käthe@Bücher.de", "käthe@xn--bcher-kva.de"},
		{"x@xn--bcher-kva.de", "x@xn--bcher-kva.de"},
		{"a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"},
		{"user@example.com.", "user@example.com"},
	}
	for _, c := range cases {
		got, err := identity.Email(c.in)
		if err != nil || got != c.want {
			t.Errorf("Email(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []string{"", "plain", "@example.com", "user@", "user@localhost", "a b@example.com", "user@exa mple.com",
		"Ana <ana@example.com>", "user@-example-.com", strings.Repeat("a", 250) + "@example.com", "a@b@c.com", "user@example..com"}
	for _, in := range bad {
		if got, err := identity.Email(in); err == nil {
			t.Errorf("Email(%q) = %q, want an error", in, got)
		} else if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorMessage(err) == "" {
			t.Errorf("Email(%q) error = %v", in, err)
		}
	}
}

func TestPhoneAndCountry(t *testing.T) {
	for in, want := range map[string]string{"+49 151 1234-5678": "+4915112345678", "0044 20 7946 0958": "+442079460958", "+1 (415) 555-0100": "+14155550100"} {
		if got, err := identity.Phone(in); err != nil || got != want {
			t.Errorf("Phone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"0151 1234567", "+12", "+0123456789", "+49 151 abc", "+1234567890123456"} {
		if got, err := identity.Phone(in); err == nil {
			t.Errorf("Phone(%q) = %q, want an error", in, got)
		}
	}
	if got, err := identity.Country(" de "); err != nil || got != "DE" {
		t.Errorf("Country(de) = %q, %v", got, err)
	}
	for _, in := range []string{"XX", "DEU", "", "Germany"} {
		if _, err := identity.Country(in); err == nil {
			t.Errorf("Country(%q) accepted", in)
		}
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"ana@example.com", "käthe@Bücher.de", "@", "a@b", "x@xn--", "\x00@a.com", "a@" + strings.Repeat("b.", 200) + "com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := identity.Email(s)
		if err != nil {
			if standing.ErrorCode(err) != standing.EINVALID {
				t.Fatalf("Email(%q) error code %s", s, standing.ErrorCode(err))
			}
			return
		}
		if len(got) > standing.MaxEmailLen || !utf8.ValidString(got) || got != strings.ToLower(got) || strings.Count(got, "@") < 1 {
			t.Fatalf("Email(%q) = %q is not canonical", s, got)
		}
		again, err := identity.Email(got)
		if err != nil || again != got {
			t.Fatalf("Email is not idempotent: %q -> %q -> %q (%v)", s, got, again, err)
		}
	})
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+49 151 1234-5678", "0044", "+", "++1", "(+1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := identity.Phone(s)
		if err != nil {
			return
		}
		if got[0] != '+' || len(got) < 9 || len(got) > 16 || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("Phone(%q) = %q is not E.164", s, got)
		}
	})
}

// TestProfile: a profile change is normalised like a new account; an empty value clears
// its field, a field left out stays nil, and a bad value names its field.
func TestProfile(t *testing.T) {
	str := func(s string) *string { return &s }
	c := standing.ProfileChange{Name: str("  Ana Lima "), Phone: str("+49 151 1234-5678"), Country: str(" de ")}
	if err := identity.Profile(&c); err != nil {
		t.Fatal(err)
	}
	if *c.Name != "Ana Lima" || *c.Phone != "+4915112345678" || *c.Country != "DE" {
		t.Errorf("normalised = %q %q %q", *c.Name, *c.Phone, *c.Country)
	}
	c = standing.ProfileChange{Phone: str("  ")}
	if err := identity.Profile(&c); err != nil || c.Name != nil || c.Country != nil || *c.Phone != "" {
		t.Errorf("clearing the phone = %+v, %v", c, err)
	}
	for _, tc := range []struct {
		c     standing.ProfileChange
		field string
	}{
		{standing.ProfileChange{Phone: str("0151 1234567")}, "phone"},
		{standing.ProfileChange{Country: str("Germany")}, "country"},
		{standing.ProfileChange{Name: str(strings.Repeat("n", standing.MaxNameLen+1))}, "name"},
		{standing.ProfileChange{Name: str("\xff")}, "name"},
	} {
		err := identity.Profile(&tc.c)
		if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tc.field || !strings.Contains(standing.ErrorMessage(err), tc.field) {
			t.Errorf("want an invalid %s, got %v (field %q)", tc.field, err, standing.ErrorField(err))
		}
	}
}
