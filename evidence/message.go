package evidence

import (
	"math"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// displayName returns the name of an uploaded file as it can be shown in a message: the
// last element of the path a browser may send, without control or bidirectional-override
// characters (which can make "gpj.exe" read as "exe.jpg"), and shortened if long. It
// returns "" when nothing is left.
func displayName(filename string) string {
	filename = strings.ToValidUTF8(filename, "\uFFFD")
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		filename = filename[i+1:]
	}
	filename = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u200b' || r == '\ufeff':
			return -1
		}
		return r
	}, filename)
	filename = strings.Join(strings.Fields(filename), " ")
	const max, keepEnd = 80, 16
	if utf8.RuneCountInString(filename) > max {
		rs := []rune(filename)
		filename = string(rs[:max-keepEnd-1]) + "…" + string(rs[len(rs)-keepEnd:])
	}
	return filename
}

// subject is how a message refers to the file at the start of a sentence.
func subject(name string) string {
	if name == "" {
		return "This file"
	}
	return name
}

// knownExts are extensions people give files; a name ending in one that does not match
// the contents has it replaced rather than kept before the right one.
var knownExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true, ".png": true, ".webp": true,
	".pdf": true, ".mp4": true, ".m4v": true, ".mov": true, ".qt": true, ".heic": true,
	".heif": true, ".gif": true, ".bmp": true, ".tif": true, ".tiff": true, ".doc": true,
	".docx": true, ".txt": true, ".exe": true, ".zip": true, ".avif": true,
}

// sameType lists the other extensions of a type's contents that are kept as they are.
var sameType = map[string][]string{
	".jpg": {".jpeg", ".jpe", ".jfif"},
	".mp4": {".m4v"},
	".mov": {".qt"},
}

// storedName returns the name to show and download the file under: its display name with
// the extension of its real type.
func storedName(name string, t Type) string {
	orig := path.Ext(name)
	ext := strings.ToLower(orig)
	if ext == t.Ext {
		return name
	}
	for _, e := range sameType[t.Ext] {
		if ext == e {
			return name
		}
	}
	base := name
	if knownExts[ext] {
		base = strings.TrimSuffix(name, orig)
	}
	if base == "" {
		base = "evidence"
	}
	return base + t.Ext
}

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

// sizeText writes a file size for people, rounded up so that a file over a limit never
// reads as the limit itself: 4404019 bytes is "4.2 MB", 3 MB and one byte "3.1 MB".
func sizeText(n int64) string {
	switch {
	case n >= gib:
		return tenths(n, gib) + " GB"
	case n >= mib:
		return tenths(n, mib) + " MB"
	case n >= kib:
		return strconv.FormatInt((n+kib-1)/kib, 10) + " KB"
	case n == 1:
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// limitText writes a size limit for people: "3 MB", "2.5 MB", "512 KB".
func limitText(n int64) string {
	for _, u := range []struct {
		n    int64
		unit string
	}{{gib, "GB"}, {mib, "MB"}, {kib, "KB"}} {
		if n >= u.n {
			if n%u.n == 0 {
				return strconv.FormatInt(n/u.n, 10) + " " + u.unit
			}
			return strconv.FormatFloat(math.Floor(float64(n)*10/float64(u.n))/10, 'f', -1, 64) + " " + u.unit
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// tenths returns n/unit rounded up to one decimal, without a trailing ".0".
func tenths(n, unit int64) string {
	t := (n*10 + unit - 1) / unit
	if t%10 == 0 {
		return strconv.FormatInt(t/10, 10)
	}
	return strconv.FormatInt(t/10, 10) + "." + strconv.FormatInt(t%10, 10)
}

// kindPlural names the files of a kind in a limit sentence: "photos can be at most 3 MB".
func kindPlural(k Kind) string {
	switch k {
	case KindPhoto:
		return "photos"
	case KindPDF:
		return "PDF documents"
	}
	return "videos"
}

// smallerAdvice tells how to bring a file of kind k under its limit.
func smallerAdvice(k Kind) string {
	switch k {
	case KindPhoto:
		return "Make it smaller (a lower resolution is fine) and try again."
	case KindPDF:
		return "Make it smaller (scan at a lower resolution, or split it into several files) and try again."
	}
	return "Make it shorter or record at a lower resolution, and try again."
}

// acceptedText lists the accepted types for a refusal.
const acceptedText = "Upload a JPEG, PNG or WebP photo, a PDF document, or an MP4 or MOV video."

// hints add advice for formats that phones and scanners make by default.
var hints = map[string]string{
	"a HEIC photo": " On an iPhone, set Settings › Camera › Formats to \"Most Compatible\", " +
		"or share the photo as JPEG.",
	"an AVIF image":       " Save or export it as JPEG or PNG.",
	"a TIFF image":        " Most scanners can save as PDF or JPEG instead.",
	"a WebM or MKV video": " Convert it to MP4.",
	"a 3GP video":         " Convert it to MP4.",
	"a ZIP archive or an Office document": " Save the document as PDF, or upload the files " +
		"in the archive one by one.",
	"an Office document": " Save the document as PDF.",
}
