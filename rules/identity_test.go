package rules

import (
	"strings"
	"testing"

	"standing"
)

// TestIdentityNormalises: the same detail written differently hashes the same; different
// details differ; the masked form shows little.
func TestIdentityNormalises(t *testing.T) {
	h := NewIdentityHasher([]byte("secret"))
	same := func(what string, a, b standing.IdentityAttribute) {
		t.Helper()
		if a.Hash == "" || a.Hash != b.Hash {
			t.Errorf("%s: %+v and %+v differ", what, a, b)
		}
	}
	phone := func(raw, region string) standing.IdentityAttribute {
		t.Helper()
		a, err := h.Phone("phone", raw, region)
		if err != nil {
			t.Fatalf("phone %q: %v", raw, err)
		}
		return a
	}
	same("phone", phone("+49 151 2345 6789", ""), phone("01512345678 9", "DE"))
	same("phone", phone("+49 (0)151-23456789", ""), phone("+4915123456789", "FR"))
	if p := phone("+4915123456789", ""); strings.Contains(p.Display, "2345") || !strings.HasPrefix(p.Display, "+49") {
		t.Errorf("phone display = %q", p.Display)
	}
	for _, bad := range []string{"call me", "12", "+1"} {
		if _, err := h.Phone("attributes.phone", bad, ""); standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != "attributes.phone" {
			t.Errorf("phone %q: %v", bad, err)
		}
	}
	name := func(s string) standing.IdentityAttribute {
		a, ok := h.Name(s)
		if !ok {
			t.Fatalf("name %q refused", s)
		}
		return a
	}
	same("name", name("Jane Q. Public"), name("public, jane q"))
	if name("Jane Doe").Hash == name("Jane Roe").Hash {
		t.Error("two names hash alike")
	}
	if d := name("Jane Doe").Display; d != "J. D." {
		t.Errorf("name display = %q", d)
	}
	addr := func(a standing.Address) standing.IdentityAttribute {
		t.Helper()
		x, err := h.Address("shipping_address", a)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	same("address", addr(standing.Address{Line1: "Hauptstraße 5", City: "Berlin", PostalCode: "10115", Country: "de"}),
		addr(standing.Address{Line1: "hauptstr. 5", City: "BERLIN", PostalCode: "101 15", Country: "DE"}))
	same("address", addr(standing.Address{Line1: "1 Main Street", City: "Springfield", Country: "US"}),
		addr(standing.Address{Line1: "1 main st.", City: "springfield", Country: "us"}))
	if _, err := h.Address("shipping_address", standing.Address{Line1: "x", Country: "Germany"}); standing.ErrorField(err) != "shipping_address.country" {
		t.Errorf("bad country: %v", err)
	}
	// Another secret, another hash: hashes do not travel between deployments.
	other, _ := NewIdentityHasher([]byte("other")).Name("Jane Doe")
	if other.Hash == name("Jane Doe").Hash {
		t.Error("the hash does not depend on the secret")
	}
}

func TestCardNumbersAreRefused(t *testing.T) {
	h := NewIdentityHasher([]byte("secret"))
	for _, c := range []struct {
		in   string
		card bool
	}{
		{"4111111111111111", true}, {"4111 1111 1111 1111", true}, {"4111-1111-1111-1111", true},
		{"378282246310005", true}, {"4111111111111112", false}, {"fp_1Mx9QbR2", false},
		{"123456789012", false}, {"41111111111111111111", false}, {"card_4111111111111111", false},
	} {
		if got := LooksLikeCardNumber(c.in); got != c.card {
			t.Errorf("LooksLikeCardNumber(%q) = %v", c.in, got)
		}
		_, err := h.CardFingerprint("attributes.card_fingerprint", c.in)
		if c.card && (standing.ErrorCode(err) != standing.EINVALID || !strings.Contains(standing.ErrorMessage(err), "card number")) {
			t.Errorf("fingerprint %q accepted: %v", c.in, err)
		}
	}
	a, err := h.CardFingerprint("f", "fp_1Mx9QbR2")
	if err != nil || a.Kind != standing.IdentityCardFingerprint || strings.Contains(a.Display, "Mx9Q") {
		t.Errorf("fingerprint = %+v, %v", a, err)
	}
}

// TestAccountIdentity: an account record's details are its phone and its name, hashed as
// the same details in an event are, so the two link.
func TestAccountIdentity(t *testing.T) {
	h := NewIdentityHasher([]byte("secret"))
	attrs := h.Account(standing.Account{Name: "Ana Lima", Phone: "+4915123456789", Country: "DE"})
	phone, _ := h.Phone("phone", "+49 151 2345 6789", "")
	name, _ := h.Name("lima, ana")
	if len(attrs) != 2 || attrs[0] != phone || attrs[1].Hash != name.Hash {
		t.Errorf("Account = %+v, want the phone %+v and the name %+v", attrs, phone, name)
	}
	if attrs := h.Account(standing.Account{Country: "DE"}); len(attrs) != 0 {
		t.Errorf("an account without details has %+v", attrs)
	}
}
