package evidence

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"standing/evidence/evidencetest"
)

// Fixtures are made here, in code, so that every byte a test feeds the inspector is
// visible and no binary files sit in the repository.

// twoColour returns a w×h image whose left half is left and right half is right.
func twoColour(w, h int, left, right color.Color) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, image.Rect(0, 0, w/2, h), image.NewUniform(left), image.Point{}, draw.Src)
	draw.Draw(m, image.Rect(w/2, 0, w, h), image.NewUniform(right), image.Point{}, draw.Src)
	return m
}

// noisy returns a w×h image of random pixels, which compresses badly: a big file from few
// pixels.
func noisy(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		m.Pix[i] = byte(r.Uint32())
	}
	return m
}

func mustJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tiffEntry is one IFD entry; value holds the 4 bytes of the value field.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	value    [4]byte
}

// exifTIFF builds the TIFF structure of an EXIF block by hand: IFD0 with the orientation,
// a camera make and a pointer to a GPS IFD holding a latitude of 48° 51′ 29″ N.
func exifTIFF(bo binary.ByteOrder, orientation uint16) []byte {
	var b bytes.Buffer
	if bo == binary.LittleEndian {
		b.WriteString("II*\x00")
	} else {
		b.WriteString("MM\x00*")
	}
	u16 := func(v uint16) { binary.Write(&b, bo, v) }
	u32 := func(v uint32) { binary.Write(&b, bo, v) }
	u32(8) // IFD0 right after the header
	const (
		ifd0Len                      = 2 + 3*12 + 4          // three entries and the next-IFD offset
		makeOff                      = 8 + ifd0Len           // "SecretCam\0", 10 bytes
		gpsOff                       = makeOff + 10          // the GPS IFD
		latOff                       = gpsOff + 2 + 2*12 + 4 // three rationals
		ascii, short, long, rational = 2, 3, 4, 5            // TIFF types
	)
	entry := func(tag, typ uint16, count uint32, value func()) {
		u16(tag)
		u16(typ)
		u32(count)
		value()
	}
	u16(3)
	entry(0x010F, ascii, 10, func() { u32(makeOff) })            // Make
	entry(0x0112, short, 1, func() { u16(orientation); u16(0) }) // Orientation
	entry(0x8825, long, 1, func() { u32(gpsOff) })               // GPSInfo
	u32(0)                                                       // no IFD1
	b.WriteString("SecretCam\x00")
	u16(2)
	entry(0x0001, ascii, 2, func() { b.WriteString("N\x00\x00\x00") }) // GPSLatitudeRef
	entry(0x0002, rational, 3, func() { u32(latOff) })                 // GPSLatitude
	u32(0)
	for _, v := range []uint32{48, 1, 51, 1, 29, 1} {
		u32(v)
	}
	return b.Bytes()
}

// withSegments inserts JPEG marker segments right after the SOI marker.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// segment returns a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// jpegWithExif returns a JPEG of img carrying an EXIF APP1 segment (orientation, camera,
// GPS), an XMP APP1 segment and a comment.
func jpegWithExif(t testing.TB, img image.Image, orientation uint16) []byte {
	exif := append([]byte("Exif\x00\x00"), exifTIFF(binary.BigEndian, orientation)...)
	xmp := []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>48,51.48N</exif:GPSLatitude></x:xmpmeta>")
	return withSegments(mustJPEG(t, img, 95),
		segment(0xE1, exif), segment(0xE1, xmp), segment(0xFE, []byte("secret comment: taken at home")))
}

// jpegSegments lists the markers of a JPEG's segments before the image data.
func jpegSegments(data []byte) []byte {
	var ms []byte
	for i := 2; i+4 <= len(data); {
		m := data[i+1]
		ms = append(ms, m)
		if m == 0xDA {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
	}
	return ms
}

// pngChunk returns a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// withPNGChunks inserts chunks right after a PNG's IHDR chunk.
func withPNGChunks(p []byte, chunks ...[]byte) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4
	out := append([]byte(nil), p[:ihdrEnd]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[ihdrEnd:]...)
}

// pngChunkTypes lists the chunk types of a PNG.
func pngChunkTypes(p []byte) []string {
	var ts []string
	for i := 8; i+12 <= len(p); {
		n := int(binary.BigEndian.Uint32(p[i:]))
		ts = append(ts, string(p[i+4:i+8]))
		i += 12 + n
	}
	return ts
}

// bitWriter writes bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf   []byte
	nbits uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := range n {
		if w.nbits%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>i&1 == 1 {
			w.buf[len(w.buf)-1] |= 1 << (w.nbits % 8)
		}
		w.nbits++
	}
}

// vp8lSolid hand-assembles a lossless VP8L bitstream for a w×h image of one colour: no
// transforms, no colour cache, and five "simple" prefix codes of one symbol each, so that
// every pixel takes zero bits.
func vp8lSolid(w, h int, c color.NRGBA) []byte {
	bw := &bitWriter{}
	bw.write(0x2f, 8)                                    // signature
	bw.write(uint32(w-1), 14)                            // image width - 1
	bw.write(uint32(h-1), 14)                            // image height - 1
	bw.write(0, 1)                                       // alpha_is_used
	bw.write(0, 3)                                       // version
	bw.write(0, 1)                                       // no transform
	bw.write(0, 1)                                       // no colour cache
	bw.write(0, 1)                                       // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} { // green, red, blue, alpha, distance
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // of 8 bits
		bw.write(uint32(sym), 8)
	}
	return bw.buf
}

// vp8lBlackWhite hand-assembles a lossless VP8L bitstream of img in black and white:
// the green, red and blue prefix codes have two symbols each (0 and 255, one bit per
// pixel each), alpha and distance one. A pixel darker than mid-grey is black.
func vp8lBlackWhite(img image.Image) []byte {
	b := img.Bounds()
	bw := &bitWriter{}
	bw.write(0x2f, 8)
	bw.write(uint32(b.Dx()-1), 14)
	bw.write(uint32(b.Dy()-1), 14)
	bw.write(0, 1)
	bw.write(0, 3)
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	for range 3 {  // green, red, blue: symbols 0 (code 0) and 255 (code 1)
		bw.write(1, 1)
		bw.write(1, 1) // two symbols
		bw.write(1, 1) // the first of 8 bits
		bw.write(0, 8)
		bw.write(255, 8)
	}
	for _, sym := range []uint32{255, 0} { // alpha, distance
		bw.write(1, 1)
		bw.write(0, 1)
		bw.write(1, 1)
		bw.write(sym, 8)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			white := uint32(0)
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y >= 128 {
				white = 1
			}
			bw.write(white, 1) // green
			bw.write(white, 1) // red
			bw.write(white, 1) // blue
		}
	}
	return bw.buf
}

// riffChunk returns a RIFF chunk, padded to an even length.
func riffChunk(id string, data []byte) []byte {
	c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// webpFile wraps chunks in a RIFF WEBP container.
func webpFile(chunks ...[]byte) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// vp8x returns a VP8X chunk with the given flags and canvas size.
func vp8x(flags byte, w, h int) []byte {
	d := make([]byte, 10)
	d[0] = flags
	d[4], d[5], d[6] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
	d[7], d[8], d[9] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
	return riffChunk("VP8X", d)
}

// webpWithMetadata returns an extended WebP of one colour carrying EXIF (with GPS), XMP
// and an unknown chunk.
func webpWithMetadata(w, h int, c color.NRGBA) []byte {
	return webpFile(
		vp8x(vp8xEXIF|vp8xXMP, w, h),
		riffChunk("VP8L", vp8lSolid(w, h, c)),
		riffChunk("EXIF", exifTIFF(binary.LittleEndian, 6)),
		riffChunk("XMP ", []byte("<x:xmpmeta>GPS 48.8582 N</x:xmpmeta>")),
		riffChunk("ZZZZ", []byte("odd")),
	)
}

// scannedPDF writes a one-page PDF whose page is nothing but img, as a scanner makes
// them: no text, a picture of the paper.
func scannedPDF(img *image.Gray) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for y := range h {
		zw.Write(img.Pix[y*img.Stride : y*img.Stride+w])
	}
	zw.Close()
	return pdfFile(
		fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>", w, h),
		pdfStream("", []byte(fmt.Sprintf("q %d 0 0 %d 0 0 cm /Im1 Do Q", w, h))),
		pdfStream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", w, h), z.Bytes()),
	)
}

func minimalPDF(lines ...string) []byte { return evidencetest.PDF(lines...) }

func pdfStream(dict string, data []byte) string { return evidencetest.PDFStream(dict, data) }

func pdfFile(page ...string) []byte { return evidencetest.PDFFile(page...) }

func cardImage(t testing.TB, size float64, cover int, lines ...string) *image.RGBA {
	return evidencetest.CardImage(t, size, cover, lines...)
}
