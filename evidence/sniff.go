package evidence

import (
	"bytes"
	"encoding/binary"
)

// Kind is the broad class of an evidence file. Each kind has its own size limit in
// standing.EvidencePolicy.
type Kind string

// The kinds of evidence.
const (
	KindPhoto Kind = "photo"
	KindPDF   Kind = "pdf"
	KindVideo Kind = "video"
)

// Type is a file type accepted as evidence.
type Type struct {
	Kind Kind
	MIME string // e.g. "image/jpeg"
	Ext  string // the usual extension with its dot, e.g. ".jpg"
	Name string // the format's name for people, e.g. "JPEG"
}

// The accepted types.
var (
	typeJPEG = Type{KindPhoto, "image/jpeg", ".jpg", "JPEG"}
	typePNG  = Type{KindPhoto, "image/png", ".png", "PNG"}
	typeWebP = Type{KindPhoto, "image/webp", ".webp", "WebP"}
	typePDF  = Type{KindPDF, "application/pdf", ".pdf", "PDF"}
	typeMP4  = Type{KindVideo, "video/mp4", ".mp4", "MP4"}
	typeMOV  = Type{KindVideo, "video/quicktime", ".mov", "MOV"}
)

// Types returns every accepted type: photos, then PDF, then videos.
func Types() []Type {
	return []Type{typeJPEG, typePNG, typeWebP, typePDF, typeMP4, typeMOV}
}

// SniffLen is how many leading bytes Sniff needs to decide; it may be given fewer.
const SniffLen = 512

// Sniff returns the type of a file from its first bytes (up to SniffLen of them), whatever
// the file is called. It reports false for anything that is not an accepted type.
func Sniff(head []byte) (Type, bool) {
	t, _, ok := sniff(head)
	return t, ok
}

// sniff returns the accepted type of head, or else a description of a recognised but
// refused format ("a HEIC photo") for the error message, or neither.
func sniff(head []byte) (t Type, refused string, ok bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return typeJPEG, "", true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return typePNG, "", true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return typeWebP, "", true
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return typePDF, "", true
	}
	if t, refused, ok := sniffISO(head); ok || refused != "" {
		return t, refused, ok
	}
	for _, r := range refusedFormats {
		if bytes.HasPrefix(head, []byte(r.magic)) {
			return Type{}, r.name, false
		}
	}
	if len(head) >= 18 && string(head[:2]) == "BM" {
		switch binary.LittleEndian.Uint32(head[14:]) { // the size of the DIB header
		case 12, 40, 52, 56, 64, 108, 124:
			return Type{}, "a BMP image", false
		}
	}
	if len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI " {
		return Type{}, "an AVI video", false
	}
	return Type{}, "", false
}

// refusedFormats are formats people often upload by mistake, named in the refusal so they
// know what they sent.
var refusedFormats = []struct{ magic, name string }{
	{"GIF87a", "a GIF image"},
	{"GIF89a", "a GIF image"},
	{"II*\x00", "a TIFF image"},
	{"MM\x00*", "a TIFF image"},
	{"\x1a\x45\xdf\xa3", "a WebM or MKV video"},
	{"PK\x03\x04", "a ZIP archive or an Office document"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document"},
	{"{\\rtf", "an RTF document"},
	{"Rar!\x1a\x07", "a RAR archive"},
	{"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	{"\x1f\x8b", "a compressed (gzip) file"},
	{"MZ", "a Windows program"},
	{"\x7fELF", "a program"},
	{"\xcf\xfa\xed\xfe", "a program"},
	{"#!", "a script"},
}

// Brands of the ISO base media file format (the "ftyp" box) and what they are.
var (
	brandsMOV  = []string{"qt  "}
	brandsHEIF = []string{"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "mif2"}
	brandsAVIF = []string{"avif", "avis"}
	brandsMP4  = []string{
		"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9",
		"mp41", "mp42", "mp71", "avc1", "hvc1", "dash", "M4V ", "M4VH", "M4VP", "MSNV", "mmp4",
		"XAVC", "f4v ", "NDAS", "NDSC", "NDSH", "NDSM", "NDSP", "NDSS", "NDXC", "NDXH", "NDXM", "NDXP", "NDXS",
	}
	brandsAudio = []string{"M4A ", "M4B ", "M4P ", "F4A ", "F4B "}
	brands3GP   = []string{"3gp4", "3gp5", "3gp6", "3gp7", "3ge6", "3ge7", "3gg6", "3g2a", "3g2b", "3g2c"}
)

// sniffISO recognises ISO-BMFF files by their ftyp box, and classic QuickTime files that
// open with a moov, wide or mdat atom.
func sniffISO(head []byte) (Type, string, bool) {
	if len(head) < 12 {
		return Type{}, "", false
	}
	size := binary.BigEndian.Uint32(head)
	box := string(head[4:8])
	if box != "ftyp" {
		// Classic QuickTime: no ftyp, the first atom is the movie itself, a "wide"
		// placeholder or the media data. The size must be a possible atom size:
		// 0 (to the end), 1 (64-bit size follows) or at least the 8-byte header.
		if (box == "moov" || box == "wide" || box == "mdat") && (size == 0 || size == 1 || size >= 8) {
			return typeMOV, "", true
		}
		return Type{}, "", false
	}
	if size < 16 || size%4 != 0 {
		return Type{}, "", false
	}
	end := min(int(min(size, SniffLen)), len(head), SniffLen)
	major := string(head[8:12])
	var compatible []string
	for i := 16; i+4 <= end; i += 4 {
		compatible = append(compatible, string(head[i:i+4]))
	}
	has := func(set []string) bool {
		for _, b := range set {
			if major == b {
				return true
			}
		}
		return false
	}
	hasCompatible := func(set []string) bool {
		for _, c := range compatible {
			for _, b := range set {
				if c == b {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has(brandsMOV):
		return typeMOV, "", true
	case has(brandsAVIF):
		return Type{}, "an AVIF image", false
	case has(brandsHEIF):
		return Type{}, "a HEIC photo", false
	case has(brandsMP4):
		if hasCompatible(brandsAVIF) {
			return Type{}, "an AVIF image", false
		}
		if hasCompatible(brandsHEIF) {
			return Type{}, "a HEIC photo", false
		}
		return typeMP4, "", true
	case has(brandsAudio):
		return Type{}, "an audio file", false
	case has(brands3GP):
		return Type{}, "a 3GP video", false
	case hasCompatible(brandsAVIF):
		return Type{}, "an AVIF image", false
	case hasCompatible(brandsHEIF):
		return Type{}, "a HEIC photo", false
	case hasCompatible(brandsMOV):
		return typeMOV, "", true
	case hasCompatible(brandsMP4):
		return typeMP4, "", true
	}
	return Type{}, "", false
}
