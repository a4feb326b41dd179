// Package evidencetest makes evidence fixtures in code — PDFs with text, photos of cards
// with or without the digits covered — for the tests of every package that handles
// uploads. No binary fixture sits in the repository.
package evidencetest

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// PDF writes a one-page PDF showing each line in Helvetica.
func PDF(lines ...string) []byte {
	var content strings.Builder
	content.WriteString("BT /F1 16 Tf 72 720 Td 20 TL\n")
	for _, l := range lines {
		l = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l)
		fmt.Fprintf(&content, "(%s) Tj T*\n", l)
	}
	content.WriteString("ET")
	return PDFFile(
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		PDFStream("", []byte(content.String())),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	)
}

// MP4 returns n bytes (32 at the least) that the inspector takes for an MP4 video: an ftyp
// box, then zeros. Videos are stored as sent, so nothing more is needed to pass.
func MP4(n int) []byte {
	b := make([]byte, max(n, 32))
	copy(b, "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41\x00\x00\x00\x08free")
	return b
}

// PDFStream writes a stream object with the given dictionary entries.
func PDFStream(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// PDFFile writes a PDF of one page: objects 1 and 2 are the catalog and the page tree,
// then the page and the objects it uses (numbered 3, 4, ... in order), with a correct
// cross-reference table.
func PDFFile(page ...string) []byte {
	objs := append([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
	}, page...)
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// CardImage renders lines of text in Go Regular, black on white, like a photo of a card
// taken straight on. cover says how many leading digits of the card number (the first
// line) to hide under black boxes.
func CardImage(t testing.TB, size float64, cover int, lines ...string) *image.RGBA {
	t.Helper()
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	lineH := int(size * 1.6)
	margin := int(size)
	width := 0
	for _, l := range lines {
		width = max(width, font.MeasureString(face, l).Ceil())
	}
	img := image.NewRGBA(image.Rect(0, 0, width+2*margin, len(lines)*lineH+2*margin))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.Black, Face: face}
	for i, l := range lines {
		y := margin + i*lineH + int(size)
		d.Dot = fixed.P(margin, y)
		d.DrawString(l)
		if i != 0 || cover == 0 {
			continue
		}
		// Black out each of the first cover digits.
		seen := 0
		for j, r := range l {
			if r < '0' || r > '9' {
				continue
			}
			if seen++; seen > cover {
				break
			}
			x0 := margin + font.MeasureString(face, l[:j]).Floor()
			x1 := margin + font.MeasureString(face, l[:j+1]).Ceil()
			draw.Draw(img, image.Rect(x0-1, y-int(size*0.8), x1+1, y+int(size*0.1)), image.Black, image.Point{}, draw.Src)
		}
	}
	return img
}

// CardJPEG is a JPEG photo of a card whose first line is number, with the first cover
// digits blacked out.
func CardJPEG(t testing.TB, number string, cover int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, CardImage(t, 64, cover, number, "VALID THRU 12/29", "ANA EXAMPLE"), &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
