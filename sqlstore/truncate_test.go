package sqlstore

import (
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},             // é is two bytes: not cut in half
		{"日本語", 5, "日"},            // three-byte characters
		{"a😀b", 4, "a"},            // four bytes
		{"a\xffb", 10, "a\uFFFDb"}, // invalid bytes are replaced
		{"a\x00b", 10, "ab"},       // PostgreSQL refuses NUL in text
		{"é", 0, ""},
	}
	for _, c := range cases {
		got := truncate(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) || len(got) > c.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
