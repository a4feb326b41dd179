package evidence

import (
	"bytes"
	"encoding/binary"
	"image/color"
	"testing"
)

// ftyp returns an ISO-BMFF ftyp box with a major brand and compatible brands.
func ftyp(major string, compatible ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(16+4*len(compatible)))
	b = append(b, "ftyp"+major+"\x00\x00\x02\x00"...)
	for _, c := range compatible {
		b = append(b, c...)
	}
	return append(b, "\x00\x00\x00\x08free"...)
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name    string
		head    []byte
		mime    string // "" when refused
		refused string // the name a refusal gives, if any
	}{
		{"JPEG", mustJPEG(t, twoColour(8, 8, color.White, color.Black), 80), "image/jpeg", ""},
		{"PNG", mustPNG(t, twoColour(8, 8, color.White, color.Black)), "image/png", ""},
		{"WebP", webpWithMetadata(4, 4, color.NRGBA{1, 2, 3, 255}), "image/webp", ""},
		{"PDF", minimalPDF("hello"), "application/pdf", ""},
		{"MP4 isom", ftyp("isom", "isom", "iso2", "avc1", "mp41"), "video/mp4", ""},
		{"MP4 mp42", ftyp("mp42", "mp42", "isom"), "video/mp4", ""},
		{"MP4 by compatible brand", ftyp("abcd", "mp42"), "video/mp4", ""},
		{"MOV ftyp", ftyp("qt  ", "qt  "), "video/quicktime", ""},
		{"MOV moov first", []byte("\x00\x00\x01\x00moov\x00\x00\x00\x6cmvhd"), "video/quicktime", ""},
		{"MOV wide first", []byte("\x00\x00\x00\x08wide\x00\x10\x00\x00mdat"), "video/quicktime", ""},
		{"MOV mdat first", []byte("\x00\x00\x00\x00mdat\x00\x00\x00\x00"), "video/quicktime", ""},
		{"MOV atom too small", []byte("\x00\x00\x00\x04moov\x00\x00\x00\x00"), "", ""},
		{"HEIC", ftyp("heic", "mif1", "heic"), "", "a HEIC photo"},
		{"HEIC with mp4 brand", ftyp("iso8", "mif1", "heic"), "", "a HEIC photo"},
		{"AVIF", ftyp("avif", "avif", "mif1"), "", "an AVIF image"},
		{"M4A audio", ftyp("M4A ", "M4A ", "mp42"), "", "an audio file"},
		{"3GP", ftyp("3gp4", "3gp4"), "", "a 3GP video"},
		{"ftyp too short", []byte("\x00\x00\x00\x08ftypisom"), "", ""},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00"), "", "a GIF image"},
		{"TIFF", []byte("II*\x00\x08\x00\x00\x00"), "", "a TIFF image"},
		{"BMP", append([]byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), 40, 0, 0, 0), "", "a BMP image"},
		{"text starting BM", []byte("BMW invoice for the car, 2024"), "", ""},
		{"Windows program", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), "", "a Windows program"},
		{"ELF", []byte("\x7fELF\x02\x01\x01"), "", "a program"},
		{"Word document", []byte("PK\x03\x04\x14\x00\x06\x00"), "", "a ZIP archive or an Office document"},
		{"WebM", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81"), "", "a WebM or MKV video"},
		{"AVI", []byte("RIFF\x00\x00\x00\x00AVI LIST"), "", "an AVI video"},
		{"WAV", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), "", ""},
		{"text", []byte("card number 4111 1111 1111 1111"), "", ""},
		{"PDF not at the start", []byte("  %PDF-1.4"), "", ""},
		{"JPEG magic cut short", []byte{0xFF, 0xD8}, "", ""},
		{"empty", nil, "", ""},
	}
	for _, tt := range tests {
		typ, refused, ok := sniff(tt.head)
		if ok != (tt.mime != "") || typ.MIME != tt.mime || refused != tt.refused {
			t.Errorf("%s: sniff = %q, %q, %v; want %q, %q", tt.name, typ.MIME, refused, ok, tt.mime, tt.refused)
		}
		if pt, pok := Sniff(tt.head); pt != typ || pok != ok {
			t.Errorf("%s: Sniff and sniff disagree", tt.name)
		}
	}
}

func TestTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range Types() {
		if typ.Kind != KindPhoto && typ.Kind != KindPDF && typ.Kind != KindVideo || typ.MIME == "" ||
			typ.Ext == "" || typ.Name == "" || seen[typ.MIME] {
			t.Errorf("bad type %+v", typ)
		}
		seen[typ.MIME] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d types, want 6", len(seen))
	}
}

func FuzzSniff(f *testing.F) {
	f.Add(mustJPEG(f, twoColour(8, 8, color.White, color.Black), 80)[:64])
	f.Add(webpWithMetadata(4, 4, color.NRGBA{A: 255})[:64])
	f.Add(minimalPDF("x")[:32])
	f.Add(ftyp("isom", "isom", "mp41"))
	f.Add(ftyp("heic", "mif1"))
	f.Add(ftyp("qt  "))
	f.Add([]byte("\x00\x00\x00\x08wide"))
	f.Add([]byte("MZ"))
	f.Add(bytes.Repeat([]byte("ftyp"), 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, refused, ok := sniff(data)
		if ok && refused != "" {
			t.Fatalf("accepted %q and refused as %q", typ.MIME, refused)
		}
		if ok {
			found := false
			for _, a := range Types() {
				found = found || a == typ
			}
			if !found {
				t.Fatalf("sniffed a type that is not accepted: %+v", typ)
			}
		}
		// Sniffing decides on the first SniffLen bytes alone.
		if len(data) > SniffLen {
			t2, r2, ok2 := sniff(data[:SniffLen])
			if t2 != typ || r2 != refused || ok2 != ok {
				t.Fatalf("sniff of %d bytes = %+v %q %v, of the first %d = %+v %q %v",
					len(data), typ, refused, ok, SniffLen, t2, r2, ok2)
			}
		}
	})
}
