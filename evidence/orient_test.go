package evidence

import (
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"testing"
)

func TestExifOrientation(t *testing.T) {
	// entry builds a TIFF structure with one IFD0 entry.
	entry := func(bo binary.AppendByteOrder, tag, typ uint16, count, value uint32) []byte {
		b := []byte("MM\x00*")
		if bo == binary.LittleEndian {
			b = []byte("II*\x00")
		}
		b = bo.AppendUint32(b, 8)
		b = bo.AppendUint16(b, 1)
		b = bo.AppendUint16(b, tag)
		b = bo.AppendUint16(b, typ)
		b = bo.AppendUint32(b, count)
		if typ == 3 {
			b = bo.AppendUint16(b, uint16(value))
			b = append(b, 0, 0)
		} else if typ == 1 {
			b = append(b, byte(value), 0, 0, 0)
		} else {
			b = bo.AppendUint32(b, value)
		}
		return bo.AppendUint32(b, 0)
	}
	le, be := binary.LittleEndian, binary.BigEndian // both are AppendByteOrder too
	tests := []struct {
		name string
		tiff []byte
		want int
	}{
		{"big-endian, with GPS", exifTIFF(be, 6), 6},
		{"little-endian, with GPS", exifTIFF(le, 8), 8},
		{"short 3 BE", entry(be, 0x0112, 3, 1, 3), 3},
		{"short 5 LE", entry(le, 0x0112, 3, 1, 5), 5},
		{"long", entry(le, 0x0112, 4, 1, 7), 7},
		{"byte", entry(be, 0x0112, 1, 1, 2), 2},
		{"zero", entry(le, 0x0112, 3, 1, 0), 1},
		{"nine", entry(le, 0x0112, 3, 1, 9), 1},
		{"huge long", entry(le, 0x0112, 4, 1, 1<<31+6), 1},
		{"rational type", entry(le, 0x0112, 5, 1, 6), 1},
		{"count zero", entry(le, 0x0112, 3, 0, 6), 1},
		{"other tag", entry(le, 0x010F, 3, 1, 6), 1},
		{"truncated entry", entry(le, 0x0112, 3, 1, 6)[:18], 1},
		{"bad magic", append([]byte("IM*\x00"), entry(le, 0x0112, 3, 1, 6)[4:]...), 1},
		{"IFD offset past the end", []byte("II*\x00\xff\xff\xff\xff"), 1},
		{"IFD offset inside the header", []byte("II*\x00\x04\x00\x00\x00\x01\x00"), 1},
		{"entry count past the end", []byte("II*\x00\x08\x00\x00\x00\xff\xff"), 1},
		{"empty", nil, 1},
	}
	for _, tt := range tests {
		if got := exifOrientation(tt.tiff); got != tt.want {
			t.Errorf("%s: exifOrientation = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	img := twoColour(16, 8, color.White, color.Black)
	plain := mustJPEG(t, img, 90)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"EXIF after XMP and a comment", withSegments(plain,
			segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x/>")),
			segment(0xFE, []byte("hello")),
			segment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF(binary.BigEndian, 6)...))), 6},
		{"fill bytes before a marker", append([]byte{0xFF, 0xD8, 0xFF, 0xFF},
			segment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF(binary.LittleEndian, 3)...))[1:]...), 3},
		{"no EXIF", plain, 1},
		{"EXIF after the image data is not read", append(plain[:len(plain)-2:len(plain)-2],
			segment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF(binary.BigEndian, 6)...))...), 1},
		{"segment longer than the file", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E'}, 1},
		{"not a JPEG", []byte("hello"), 1},
	}
	for _, tt := range tests {
		if got := jpegOrientation(tt.data); got != tt.want {
			t.Errorf("%s: jpegOrientation = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// exifSides says, for each orientation, where the stored image's first row and first
// column are shown (EXIF 2.32, tag 0x0112) — the definition, written apart from orient's
// arithmetic so that one checks the other.
var exifSides = map[int]struct{ row, col string }{
	1: {"top", "left"}, 2: {"top", "right"}, 3: {"bottom", "right"}, 4: {"bottom", "left"},
	5: {"left", "top"}, 6: {"right", "top"}, 7: {"right", "bottom"}, 8: {"left", "bottom"},
}

// shownAt returns where the stored pixel (x, y) of a w×h image is shown.
func shownAt(o, x, y, w, h int) (int, int) {
	s := exifSides[o]
	if s.row == "top" || s.row == "bottom" {
		X, Y := x, y
		if s.col == "right" {
			X = w - 1 - x
		}
		if s.row == "bottom" {
			Y = h - 1 - y
		}
		return X, Y
	}
	X, Y := y, x // rows become columns
	if s.row == "right" {
		X = h - 1 - y
	}
	if s.col == "bottom" {
		Y = w - 1 - x
	}
	return X, Y
}

func TestOrient(t *testing.T) {
	const w, h = 5, 3
	// Every pixel distinct, in each of the pixel layouts orient handles.
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			rgba.Set(x, y, color.RGBA{uint8(10 * x), uint8(10 * y), 200, 255})
		}
	}
	gray := image.NewGray(rgba.Rect)
	pal := image.NewPaletted(rgba.Rect, nil)
	for y := range h {
		for x := range w {
			gray.SetGray(x, y, color.Gray{uint8(16*y + x)})
			pal.Palette = append(pal.Palette, rgba.At(x, y))
			pal.SetColorIndex(x, y, uint8(y*w+x))
		}
	}
	// A sub-image whose bounds do not start at (0, 0).
	big := image.NewNRGBA(image.Rect(-3, -3, w+4, h+4))
	draw.Draw(big, image.Rect(0, 0, w, h), rgba, image.Point{}, draw.Src)
	sub := big.SubImage(image.Rect(0, 0, w, h))
	ycc := image.NewYCbCr(rgba.Rect, image.YCbCrSubsampleRatio444)
	for y := range h {
		for x := range w {
			yy, cb, cr := color.RGBToYCbCr(uint8(40*x), uint8(60*y), 100)
			ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = yy, cb, cr
		}
	}
	// 4:2:0 chroma samples cover 2×2 pixels: even sizes turn plane by plane, odd ones
	// (and 4:2:2) through RGBA.
	ycc420 := image.NewYCbCr(image.Rect(0, 0, 6, 4), image.YCbCrSubsampleRatio420)
	ycc420odd := image.NewYCbCr(rgba.Rect, image.YCbCrSubsampleRatio420)
	ycc422 := image.NewYCbCr(rgba.Rect, image.YCbCrSubsampleRatio422)
	for _, m := range []*image.YCbCr{ycc420, ycc420odd, ycc422} {
		for i := range m.Y {
			m.Y[i] = uint8(40 + 9*i)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(100+13*i), uint8(200-11*i)
		}
	}
	for _, src := range []image.Image{rgba, gray, pal, sub, ycc, ycc420, ycc420odd, ycc422} {
		w, h := src.Bounds().Dx(), src.Bounds().Dy()
		for o := 1; o <= 8; o++ {
			got := orient(src, o)
			b := got.Bounds()
			wantW, wantH := w, h
			if o >= 5 {
				wantW, wantH = h, w
			}
			if b.Dx() != wantW || b.Dy() != wantH {
				t.Fatalf("%T orientation %d: size %v, want %d×%d", src, o, b.Size(), wantW, wantH)
			}
			if m, ok := src.(*image.YCbCr); ok && m != ycc420odd && m != ycc422 {
				if g, ok := got.(*image.YCbCr); !ok || g.SubsampleRatio != m.SubsampleRatio {
					t.Fatalf("orientation %d of YCbCr %v gave %T", o, m.SubsampleRatio, got)
				}
			}
			for y := range h {
				for x := range w {
					X, Y := shownAt(o, x, y, w, h)
					want := color.RGBAModel.Convert(src.At(src.Bounds().Min.X+x, src.Bounds().Min.Y+y))
					if c := color.RGBAModel.Convert(got.At(b.Min.X+X, b.Min.Y+Y)); c != want {
						t.Fatalf("%T orientation %d: stored (%d,%d) shown at (%d,%d) is %v, want %v", src, o, x, y, X, Y, c, want)
					}
				}
			}
		}
	}
	if orient(rgba, 1) != image.Image(rgba) || orient(rgba, 0) != image.Image(rgba) || orient(rgba, 9) != image.Image(rgba) {
		t.Error("orientations 1, 0 and 9 should leave the image as it is")
	}
}

func FuzzExifOrientation(f *testing.F) {
	f.Add(exifTIFF(binary.BigEndian, 6))
	f.Add(exifTIFF(binary.LittleEndian, 8))
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00"))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\xff\xff"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := exifOrientation(b); o < 1 || o > 8 {
			t.Fatalf("exifOrientation = %d, want 1–8", o)
		}
		jpg := append([]byte{0xFF, 0xD8}, segment(0xE1, append([]byte("Exif\x00\x00"), b...))...)
		if len(b) < 0xFFF0 {
			if got, want := jpegOrientation(jpg), exifOrientation(b); got != want {
				t.Fatalf("jpegOrientation = %d, exifOrientation = %d", got, want)
			}
		}
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("jpegOrientation = %d, want 1–8", o)
		}
		if o := pngOrientation(b); o < 1 || o > 8 {
			t.Fatalf("pngOrientation = %d, want 1–8", o)
		}
	})
}
