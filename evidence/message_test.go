package evidence

import (
	"strings"
	"testing"
)

func TestSizeText(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{1, "1 byte"},
		{1023, "1023 bytes"},
		{1024, "1 KB"},
		{1025, "2 KB"},
		{3 << 20, "3 MB"},
		{3<<20 + 1, "3.1 MB"}, // never reads as the limit it is over
		{4 << 20, "4 MB"},
		{4404019, "4.2 MB"},
		{10<<20 + 400<<10, "10.4 MB"},
		{5 << 30, "5 GB"},
	}
	for _, tt := range tests {
		if got := sizeText(tt.n); got != tt.want {
			t.Errorf("sizeText(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestLimitText(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{3 << 20, "3 MB"},
		{10 << 20, "10 MB"},
		{50 << 20, "50 MB"},
		{5 << 19, "2.5 MB"},
		{3<<20 + 1, "3 MB"}, // a limit is never rounded up past itself
		{512 << 10, "512 KB"},
		{1 << 30, "1 GB"},
		{100, "100 bytes"},
	}
	for _, tt := range tests {
		if got := limitText(tt.n); got != tt.want {
			t.Errorf("limitText(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"passport.jpg", "passport.jpg"},
		{`C:\Users\Ann\Pictures\card.png`, "card.png"},
		{"../../etc/passwd", "passwd"},
		{"  my\tcard \n photo.jpg ", "my card photo.jpg"},
		{"invoice\u202Egpj.exe", "invoicegpj.exe"},
		{"a\x00b\x07c.pdf", "abc.pdf"},
		{"bad\xffutf8.jpg", "bad\uFFFDutf8.jpg"},
		{"", ""},
		{"/", ""},
		{strings.Repeat("a", 100) + ".jpg", strings.Repeat("a", 63) + "…" + strings.Repeat("a", 12) + ".jpg"},
	}
	for _, tt := range tests {
		if got := displayName(tt.in); got != tt.want {
			t.Errorf("displayName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStoredName(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		want string
	}{
		{"card.jpg", typeJPEG, "card.jpg"},
		{"card.JPEG", typeJPEG, "card.JPEG"},
		{"scan.jpg", typePDF, "scan.pdf"},
		{"statement", typePDF, "statement.pdf"},
		{"statement.2024", typePDF, "statement.2024.pdf"},
		{"IMG_0001.HEIC", typeJPEG, "IMG_0001.jpg"},
		{"clip.m4v", typeMP4, "clip.m4v"},
		{"clip.mp4", typeMOV, "clip.mov"},
		{".pdf", typePNG, "evidence.png"},
		{"", typeWebP, "evidence.webp"},
	}
	for _, tt := range tests {
		if got := storedName(tt.name, tt.typ); got != tt.want {
			t.Errorf("storedName(%q, %s) = %q, want %q", tt.name, tt.typ.Name, got, tt.want)
		}
	}
}
