package auth_test

import (
	"strings"
	"testing"

	"standing"
	"standing/auth"
)

func TestHashAndCheckPassword(t *testing.T) {
	h := auth.HashPassword("correct horse staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %s", h)
	}
	if !auth.CheckPassword(h, "correct horse staple") {
		t.Fatal("the right password does not match")
	}
	for _, wrong := range []string{"Correct horse staple", "correct horse staple ", ""} {
		if auth.CheckPassword(h, wrong) {
			t.Errorf("%q matches", wrong)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=0,t=2,p=1$AA$AA", "$bcrypt$x$y$z$w"} {
		if auth.CheckPassword(bad, "x") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	if auth.HashPassword("same") == auth.HashPassword("same") {
		t.Error("two hashes of one password are equal: no salt")
	}
}

func TestValidatePassword(t *testing.T) {
	p := standing.DefaultPolicy().SignIn
	cases := []struct {
		pw, email string
		ok        bool
		mention   string
	}{
		{"a long enough phrase", "x@example.com", true, ""},
		{"short", "x@example.com", false, "at least 10"},
		{strings.Repeat("x", 129) + "y", "x@example.com", false, "at most 128"},
		{"password123", "x@example.com", false, "common"},
		{"Qwerty2024!!", "x@example.com", false, "common"},
		{"1234567890", "x@example.com", false, "common"},
		{"aaaaaaaaaaaa", "x@example.com", false, "repeat"},
		{"marianne-secret-99", "marianne@example.com", false, "email"},
	}
	for _, c := range cases {
		err := auth.ValidatePassword(p, c.pw, c.email)
		if (err == nil) != c.ok {
			t.Errorf("ValidatePassword(%q) = %v, want ok=%v", c.pw, err, c.ok)
			continue
		}
		if err != nil && (standing.ErrorField(err) != "password" || !strings.Contains(standing.ErrorMessage(err), c.mention)) {
			t.Errorf("ValidatePassword(%q) = %v, want field password mentioning %q", c.pw, err, c.mention)
		}
	}
}

func TestFakeCheckPasswordNeverMatches(t *testing.T) {
	for _, pw := range []string{"", "no account has this password", "anything at all"} {
		if auth.FakeCheckPassword(pw) {
			t.Errorf("FakeCheckPassword(%q) = true", pw)
		}
	}
}
