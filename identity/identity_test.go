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
