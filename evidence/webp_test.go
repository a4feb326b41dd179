package evidence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image/color"
	"testing"
)

// webpChunks lists the chunk ids of a WebP file, checking that they add up to the RIFF
// size.
func webpChunks(t testing.TB, data []byte) []string {
	t.Helper()
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		t.Fatalf("not a RIFF WEBP file: % x", data[:min(len(data), 12)])
	}
	if size := binary.LittleEndian.Uint32(data[4:]); int(size) != len(data)-8 {
		t.Fatalf("RIFF size %d, file has %d bytes after the header", size, len(data)-8)
	}
	var ids []string
	for b := data[12:]; len(b) > 0; {
		if len(b) < 8 {
			t.Fatalf("%d stray bytes at the end", len(b))
		}
		n := int(binary.LittleEndian.Uint32(b[4:]))
		n += n & 1
		if 8+n > len(b) {
			t.Fatalf("chunk %q runs past the end", b[:4])
		}
		ids = append(ids, string(b[:4]))
		b = b[8+n:]
	}
	return ids
}

func TestStripWebP(t *testing.T) {
	c := color.NRGBA{R: 200, G: 30, B: 60, A: 255}
	in := webpWithMetadata(40, 30, c)
	if m, err := decodeWebP(in); err != nil || m.Bounds().Dx() != 40 {
		t.Fatalf("the hand-made fixture does not decode: %v", err)
	}
	out, err := stripWebP(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := webpChunks(t, out), []string{"VP8X", "VP8L"}; !equal(got, want) {
		t.Errorf("chunks %q, want %q", got, want)
	}
	if flags := out[12+8]; flags&(vp8xEXIF|vp8xXMP|vp8xICC) != 0 {
		t.Errorf("VP8X flags %08b still announce metadata", flags)
	}
	if !bytes.Contains(out, riffChunk("VP8L", vp8lSolid(40, 30, c))) {
		t.Error("the image data was changed")
	}
	for _, s := range []string{"EXIF", "XMP ", "GPS", "ZZZZ", "MM\x00*", "II*\x00"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%q is still in the file", s)
		}
	}
	m, err := decodeWebP(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := color.NRGBAModel.Convert(m.At(20, 15)); got != c || m.Bounds().Dx() != 40 || m.Bounds().Dy() != 30 {
		t.Errorf("decoded %v of %v, want %v of 40×30", got, m.Bounds(), c)
	}
	again, err := stripWebP(out)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("stripping twice changed the file (%v)", err)
	}
}

func TestStripWebPKeepsSimpleFiles(t *testing.T) {
	simple := webpFile(riffChunk("VP8L", vp8lSolid(3, 5, color.NRGBA{1, 2, 3, 255})))
	out, err := stripWebP(append(simple, "trailing bytes"...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, simple) {
		t.Errorf("a simple WebP changed:\n got % x\nwant % x", out, simple)
	}
	// An odd-sized last chunk may lack its padding byte; the output has it.
	odd := webpFile(riffChunk("VP8L", append(vp8lSolid(3, 5, color.NRGBA{1, 2, 3, 255}), 0)[:7]))
	unpadded := odd[:len(odd)-1]
	binary.LittleEndian.PutUint32(unpadded[4:], uint32(len(unpadded)-8))
	out, err = stripWebP(unpadded)
	if err != nil {
		t.Fatal(err)
	}
	webpChunks(t, out)
}

func TestStripWebPRefuses(t *testing.T) {
	img := riffChunk("VP8L", vp8lSolid(4, 4, color.NRGBA{A: 255}))
	good := webpFile(vp8x(0, 4, 4), img)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"animated flag", webpFile(vp8x(vp8xAnimation, 4, 4), img), errWebPAnimated},
		{"animation chunks", webpFile(vp8x(0, 4, 4), riffChunk("ANIM", make([]byte, 6)), riffChunk("ANMF", make([]byte, 16))), errWebPAnimated},
		{"no image", webpFile(vp8x(0, 4, 4), riffChunk("EXIF", []byte("x"))), errWebPDamaged},
		{"two images", webpFile(img, img), errWebPDamaged},
		{"two VP8X", webpFile(vp8x(0, 4, 4), vp8x(0, 4, 4), img), errWebPDamaged},
		{"VP8X after the image", webpFile(img, vp8x(0, 4, 4)), errWebPDamaged},
		{"VP8X of the wrong size", webpFile(riffChunk("VP8X", make([]byte, 8)), img), errWebPDamaged},
		{"cut short", good[:len(good)-3], errWebPDamaged},
		{"chunk past the end", func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint32(b[len(b)-len(img)+4:], 1000)
			return b
		}(), errWebPDamaged},
		{"RIFF size too small", func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint32(b[4:], 2)
			return b
		}(), errWebPDamaged},
		{"stray bytes in the container", func() []byte {
			b := append(bytes.Clone(good), 1, 2, 3)
			binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
			return b
		}(), errWebPDamaged},
		{"not WebP", []byte("RIFF\x04\x00\x00\x00WAVE"), errWebPDamaged},
	}
	for _, tt := range tests {
		if _, err := stripWebP(tt.data); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzStripWebP(f *testing.F) {
	f.Add(webpWithMetadata(7, 3, color.NRGBA{9, 8, 7, 255}))
	f.Add(webpFile(riffChunk("VP8L", vp8lSolid(2, 2, color.NRGBA{A: 255}))))
	f.Add(webpFile(vp8x(vp8xAnimation, 4, 4), riffChunk("ANIM", make([]byte, 6))))
	f.Add(webpFile(vp8x(vp8xICC|vp8xEXIF, 2, 2), riffChunk("ICCP", []byte("profile")), riffChunk("VP8 ", []byte("not really VP8"))))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBP"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := stripWebP(data)
		if err != nil {
			return
		}
		ids := webpChunks(t, out)
		images := 0
		for i, id := range ids {
			switch id {
			case "VP8 ", "VP8L":
				images++
			case "ALPH":
			case "VP8X":
				if i != 0 {
					t.Fatalf("VP8X is chunk %d", i)
				}
				if out[20]&(vp8xEXIF|vp8xXMP|vp8xICC|vp8xAnimation) != 0 {
					t.Fatalf("VP8X flags %08b", out[20])
				}
			default:
				t.Fatalf("chunk %q kept", id)
			}
		}
		if images != 1 {
			t.Fatalf("%d image chunks", images)
		}
		again, err := stripWebP(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("stripping the output again gave %v, %q", err, again)
		}
	})
}
