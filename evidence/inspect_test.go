package evidence

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"standing"
)

// These tests run the real pdftotext, pdftoppm and tesseract: install the Debian packages
// poppler-utils and tesseract-ocr.

func newInspector() *Inspector {
	return &Inspector{Policy: Fixed(standing.DefaultPolicy().Evidence), Text: &Tools{}}
}

// mustInspect inspects data and fails the test on an error.
func mustInspect(t *testing.T, field, name string, data []byte) *File {
	t.Helper()
	f, err := newInspector().Inspect(context.Background(), field, name, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Inspect(%s): %v", name, err)
	}
	return f
}

// wantRefusal checks that err is a *standing.Error with the code and field, whose message
// holds every one of parts.
func wantRefusal(t *testing.T, err error, code, field string, parts ...string) {
	t.Helper()
	var se *standing.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *standing.Error %s", err, code)
	}
	if se.Code != code || se.Field != field {
		t.Errorf("code, field = %s, %q; want %s, %q (message %q)", se.Code, se.Field, code, field, se.Message)
	}
	for _, p := range parts {
		if !strings.Contains(se.Message, p) {
			t.Errorf("message %q does not say %q", se.Message, p)
		}
	}
}

func TestInspectJPEGStripsExifAndTurnsUpright(t *testing.T) {
	t.Parallel()
	red, blue := color.RGBA{220, 0, 0, 255}, color.RGBA{0, 0, 220, 255}
	// Stored 64×32, left half red; orientation 6 says: turn it 90° clockwise to show it.
	in := jpegWithExif(t, twoColour(64, 32, red, blue), 6)
	for _, s := range []string{"Exif", "SecretCam", "secret comment", "GPSLatitude"} {
		if !bytes.Contains(in, []byte(s)) {
			t.Fatalf("fixture lacks %q", s)
		}
	}
	f := mustInspect(t, "id_document", "IMG_2041.JPG", in)
	if f.Kind != KindPhoto || f.MIME != "image/jpeg" || f.Ext != ".jpg" || f.Name != "IMG_2041.JPG" {
		t.Errorf("file = %s %s %s %q", f.Kind, f.MIME, f.Ext, f.Name)
	}
	if f.Size != int64(len(f.Data)) || f.Received != int64(len(in)) {
		t.Errorf("Size %d, Received %d; want %d, %d", f.Size, f.Received, len(f.Data), len(in))
	}
	for _, m := range jpegSegments(f.Data) {
		if m >= 0xE1 && m <= 0xEF || m == 0xFE {
			t.Errorf("segment FF%02X is still in the cleaned JPEG", m)
		}
	}
	for _, s := range []string{"Exif", "SecretCam", "secret comment", "GPS", "xmpmeta"} {
		if bytes.Contains(f.Data, []byte(s)) {
			t.Errorf("%q is still in the cleaned JPEG", s)
		}
	}
	img, err := jpeg.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 64 || f.Width != 32 || f.Height != 64 {
		t.Fatalf("cleaned photo is %v (File says %d×%d), want 32×64", b.Size(), f.Width, f.Height)
	}
	// The left (red) half is now on top.
	if c := img.At(16, 8); !near(c, red) {
		t.Errorf("top is %v, want red", c)
	}
	if c := img.At(16, 56); !near(c, blue) {
		t.Errorf("bottom is %v, want blue", c)
	}
}

// near reports whether two colours are within the error of a JPEG round trip.
func near(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) bool { return max(x, y)-min(x, y) < 0x1800 }
	return d(r1, r2) && d(g1, g2) && d(b1, b2)
}

func TestInspectPNGStripsTextChunks(t *testing.T) {
	t.Parallel()
	green, white := color.RGBA{0, 160, 0, 255}, color.RGBA{255, 255, 255, 255}
	in := withPNGChunks(mustPNG(t, twoColour(40, 20, green, white)),
		pngChunk("tEXt", []byte("Author\x00Jane Roe, 12 Home Street")),
		pngChunk("iTXt", []byte("Comment\x00\x00\x00\x00\x00taken at home")),
		pngChunk("tIME", []byte{0x07, 0xE8, 1, 2, 3, 4, 5}),
		pngChunk("eXIf", exifTIFF(binary.LittleEndian, 8)),
	)
	if _, err := png.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("fixture does not decode: %v", err)
	}
	f := mustInspect(t, "card_photo", "screenshot.png", in)
	for _, typ := range pngChunkTypes(f.Data) {
		if typ != "IHDR" && typ != "IDAT" && typ != "IEND" {
			t.Errorf("chunk %s is still in the cleaned PNG", typ)
		}
	}
	for _, s := range []string{"Jane Roe", "taken at home", "SecretCam"} {
		if bytes.Contains(f.Data, []byte(s)) {
			t.Errorf("%q is still in the cleaned PNG", s)
		}
	}
	img, err := png.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatal(err)
	}
	// Orientation 8: turn 90° counter-clockwise; the left (green) half goes to the bottom.
	if b := img.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
		t.Fatalf("cleaned PNG is %v, want 20×40", b.Size())
	}
	if c := color.RGBAModel.Convert(img.At(10, 35)); c != green {
		t.Errorf("bottom is %v, want green", c)
	}
	if c := color.RGBAModel.Convert(img.At(10, 5)); c != white {
		t.Errorf("top is %v, want white", c)
	}
}

func TestInspectWebPStripsMetadata(t *testing.T) {
	t.Parallel()
	c := color.NRGBA{R: 250, G: 250, B: 240, A: 255}
	in := webpWithMetadata(48, 32, c)
	f := mustInspect(t, "card_photo", "photo.webp", in)
	if f.MIME != "image/webp" || f.Width != 48 || f.Height != 32 {
		t.Errorf("file = %s %d×%d", f.MIME, f.Width, f.Height)
	}
	if got, want := webpChunks(t, f.Data), []string{"VP8X", "VP8L"}; !equal(got, want) {
		t.Errorf("chunks %q, want %q", got, want)
	}
	if bytes.Contains(f.Data, []byte("GPS")) || bytes.Contains(f.Data, []byte("EXIF")) {
		t.Error("metadata is still in the cleaned WebP")
	}
	if !bytes.Contains(f.Data, riffChunk("VP8L", vp8lSolid(48, 32, c))) {
		t.Error("the image data was changed")
	}
}

func TestInspectAnimatedWebP(t *testing.T) {
	t.Parallel()
	in := webpFile(vp8x(vp8xAnimation, 4, 4), riffChunk("ANIM", make([]byte, 6)), riffChunk("ANMF", make([]byte, 16)))
	_, err := newInspector().Inspect(context.Background(), "card_photo", "sticker.webp", bytes.NewReader(in))
	wantRefusal(t, err, standing.EINVALID, "card_photo", "sticker.webp is an animated WebP", "still photo")
}

// endless is a reader of a header followed by zeros for ever, counting what is read.
type endless struct {
	head []byte
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	clear(p[n:])
	e.read += int64(len(p))
	return len(p), nil
}

// sized returns a file of n bytes that begins with head.
func sized(head []byte, n int) []byte {
	b := make([]byte, n)
	copy(b, head)
	return b
}

func TestInspectTooLarge(t *testing.T) {
	t.Parallel()
	jpegHead := []byte{0xFF, 0xD8, 0xFF, 0xE0}
	tests := []struct {
		name, field, file string
		data              []byte
		want              string
	}{
		{"4 MB photo", "card_photo", "passport.jpg", sized(jpegHead, 4<<20),
			"passport.jpg is 4 MB; photos can be at most 3 MB. Make it smaller (a lower resolution is fine) and try again."},
		{"4.2 MB photo", "card_photo", "passport.jpg", sized(jpegHead, 4404019),
			"passport.jpg is 4.2 MB; photos can be at most 3 MB. Make it smaller (a lower resolution is fine) and try again."},
		{"one byte over", "card_photo", "card.png", sized([]byte("\x89PNG\r\n\x1a\n"), 3<<20+1),
			"card.png is 3.1 MB; photos can be at most 3 MB."},
		{"12 MB PDF", "bank_statement", "statement.pdf", sized([]byte("%PDF-1.7\n"), 12<<20),
			"statement.pdf is 12 MB; PDF documents can be at most 10 MB. Make it smaller (scan at a lower resolution, or split it into several files) and try again."},
		{"60 MB video", "video", "unboxing.mp4", sized(ftyp("isom", "mp41"), 60<<20),
			"unboxing.mp4 is larger than 50 MB; videos can be at most 50 MB. Make it shorter or record at a lower resolution, and try again."},
		{"no name", "card_photo", "", sized(jpegHead, 4<<20), "This file is 4 MB; photos can be at most 3 MB."},
	}
	for _, tt := range tests {
		_, err := newInspector().Inspect(context.Background(), tt.field, tt.file, bytes.NewReader(tt.data))
		wantRefusal(t, err, standing.ETOOLARGE, tt.field, tt.want)
	}

	// A real photo, made large by noise.
	big := mustJPEG(t, noisy(1600, 1200), 100)
	if len(big) <= 3<<20 {
		t.Fatalf("noisy photo is only %d bytes", len(big))
	}
	_, err := newInspector().Inspect(context.Background(), "id_document", "IMG_0001.jpeg", bytes.NewReader(big))
	wantRefusal(t, err, standing.ETOOLARGE, "id_document",
		"IMG_0001.jpeg is "+sizeText(int64(len(big)))+"; photos can be at most 3 MB.")
}

func TestInspectReadsNoMoreThanItMust(t *testing.T) {
	t.Parallel()
	p := standing.DefaultPolicy().Evidence
	tests := []struct {
		name, file string
		head       []byte
		want       string
	}{
		{"photo", "huge.jpg", []byte{0xFF, 0xD8, 0xFF}, "huge.jpg is larger than 50 MB; photos can be at most 3 MB."},
		{"PDF", "huge.pdf", []byte("%PDF-1.4"), "huge.pdf is larger than 50 MB; PDF documents can be at most 10 MB."},
		{"video", "huge.mov", []byte("\x00\x00\x00\x08wide\x00\x00\x00\x00mdat"), "huge.mov is larger than 50 MB; videos can be at most 50 MB."},
	}
	for _, tt := range tests {
		r := &endless{head: tt.head}
		_, err := newInspector().Inspect(context.Background(), "f", tt.file, r)
		wantRefusal(t, err, standing.ETOOLARGE, "f", tt.want)
		if limit := int64(p.VideoMax) + 1; r.read > limit {
			t.Errorf("%s: read %d bytes of an endless upload; the largest limit is %d", tt.name, r.read, limit-1)
		}
	}
	// An unaccepted type is refused after its first bytes.
	r := &endless{head: []byte("MZ")}
	_, err := newInspector().Inspect(context.Background(), "f", "setup.jpg", r)
	wantRefusal(t, err, standing.EINVALID, "f", "setup.jpg is a Windows program")
	if r.read > SniffLen {
		t.Errorf("read %d bytes of a program before refusing it", r.read)
	}
}

// limitedReads wraps a reader and fails the test if more than max bytes are asked for.
type limitedReads struct {
	r    io.Reader
	left int64
}

func (l *limitedReads) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errors.New("read past the limit + 1")
	}
	return n, err
}

func TestInspectReadsExactlyUpToTheLimit(t *testing.T) {
	t.Parallel()
	// A video of exactly the limit is accepted, reading limit + 1 bytes at most (the
	// last to see EOF).
	p := standing.DefaultPolicy().Evidence
	data := sized(ftyp("mp42", "isom"), int(p.VideoMax))
	f, err := newInspector().Inspect(context.Background(), "video", "clip.mp4",
		&limitedReads{r: bytes.NewReader(data), left: int64(p.VideoMax) + 1})
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != KindVideo || f.MIME != "video/mp4" || f.Size != int64(p.VideoMax) || !bytes.Equal(f.Data, data) {
		t.Errorf("file = %s %s %d bytes", f.Kind, f.MIME, f.Size)
	}
}

func TestInspectVideo(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, file, mime, ext string
		data                  []byte
	}{
		{"MP4", "unboxing.mp4", "video/mp4", ".mp4", sized(ftyp("isom", "isom", "avc1"), 4096)},
		{"MOV from an iPhone", "IMG_0042.MOV", "video/quicktime", ".mov", sized(ftyp("qt  ", "qt  "), 4096)},
		{"old QuickTime", "clip.mov", "video/quicktime", ".mov", sized([]byte("\x00\x00\x00\x08wide\x00\x00\x10\x00mdat"), 4096)},
	} {
		f := mustInspect(t, "video", tt.file, tt.data)
		if f.Kind != KindVideo || f.MIME != tt.mime || f.Ext != tt.ext || f.Name != tt.file || !bytes.Equal(f.Data, tt.data) {
			t.Errorf("%s: file = %s %s %s %q", tt.name, f.Kind, f.MIME, f.Ext, f.Name)
		}
	}
}

func TestInspectTypeFromContents(t *testing.T) {
	t.Parallel()
	// A PDF called .jpg is a PDF.
	f := mustInspect(t, "bank_statement", "scan.jpg", minimalPDF("Statement for March"))
	if f.Kind != KindPDF || f.MIME != "application/pdf" || f.Name != "scan.pdf" {
		t.Errorf("file = %s %s %q, want a PDF named scan.pdf", f.Kind, f.MIME, f.Name)
	}
	// A JPEG called .png is a JPEG.
	f = mustInspect(t, "card_photo", "card.png", mustJPEG(t, twoColour(16, 16, color.White, color.Black), 90))
	if f.MIME != "image/jpeg" || f.Name != "card.jpg" {
		t.Errorf("file = %s %q, want a JPEG named card.jpg", f.MIME, f.Name)
	}

	accepted := "Upload a JPEG, PNG or WebP photo, a PDF document, or an MP4 or MOV video."
	tests := []struct {
		name, file string
		data       []byte
		want       []string
	}{
		{"renamed program", "passport.jpg", append([]byte("MZ\x90\x00"), make([]byte, 1000)...),
			[]string{"passport.jpg is a Windows program, which we cannot accept.", accepted}},
		{"iPhone photo", "IMG_1234.HEIC", sized(ftyp("heic", "mif1", "heic"), 2000),
			[]string{"IMG_1234.HEIC is a HEIC photo", accepted, "Most Compatible"}},
		{"Word document", "statement.docx", sized([]byte("PK\x03\x04"), 2000),
			[]string{"statement.docx is a ZIP archive or an Office document", "Save the document as PDF"}},
		{"text called .pdf", "statement.pdf", []byte("Card 4111 1111 1111 1111"),
			[]string{"statement.pdf is not a photo, PDF or video we can accept", "whatever its name says", accepted}},
		{"empty", "card.jpg", nil, []string{"card.jpg is empty."}},
		{"no name", "", []byte("hello"), []string{"This file is not a photo, PDF or video"}},
	}
	for _, tt := range tests {
		_, err := newInspector().Inspect(context.Background(), "document", tt.file, bytes.NewReader(tt.data))
		wantRefusal(t, err, standing.EINVALID, "document", tt.want...)
	}
}

func TestInspectDamaged(t *testing.T) {
	t.Parallel()
	good := mustJPEG(t, twoColour(16, 16, color.White, color.Black), 90)
	tests := []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"JPEG cut short", "card.jpg", good[:len(good)/2], "card.jpg looks like a JPEG photo but cannot be opened"},
		{"JPEG magic only", "card.jpg", []byte{0xFF, 0xD8, 0xFF, 0xDB, 0, 0, 1, 2, 3}, "card.jpg looks like a JPEG photo but cannot be opened"},
		{"PNG header only", "card.png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), "card.png looks like a PNG photo but cannot be opened"},
		{"WebP without image", "card.webp", webpFile(vp8x(0, 4, 4)), "card.webp looks like a WebP photo but cannot be opened"},
		{"PDF that is not one", "statement.pdf", []byte("%PDF-1.4\nthis is not a PDF at all\n"),
			"statement.pdf cannot be opened as a PDF; it may be damaged or locked with a password."},
	}
	for _, tt := range tests {
		_, err := newInspector().Inspect(context.Background(), "document", tt.file, bytes.NewReader(tt.data))
		wantRefusal(t, err, standing.EINVALID, "document", tt.want)
	}
}

func TestInspectPixelBomb(t *testing.T) {
	t.Parallel()
	// A PNG of a few dozen bytes that declares 10000 × 10000 pixels: refused from its
	// header, before any decoding.
	ihdr := binary.BigEndian.AppendUint32(nil, 10000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 10000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	bomb := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	bomb = append(bomb, pngChunk("IDAT", []byte{0x78, 0x9c})...)
	_, err := newInspector().Inspect(context.Background(), "card_photo", "bomb.png", bytes.NewReader(bomb))
	wantRefusal(t, err, standing.ETOOLARGE, "card_photo",
		"bomb.png is 10000 × 10000 pixels (100 megapixels); photos can be at most 50 megapixels.")

	// The limit is a setting.
	small := &Inspector{Policy: Fixed(standing.DefaultPolicy().Evidence), MaxPixels: 100}
	_, err = small.Inspect(context.Background(), "card_photo", "a.jpg",
		bytes.NewReader(mustJPEG(t, twoColour(20, 10, color.White, color.Black), 90)))
	wantRefusal(t, err, standing.ETOOLARGE, "card_photo", "a.jpg is 20 × 10 pixels")
}

func TestInspectPDFCardNumber(t *testing.T) {
	t.Parallel()
	full := minimalPDF("Payment card statement", "Card number: 4111 1111 1111 1111", "Order 8123 4567 8901 2345")
	_, err := newInspector().Inspect(context.Background(), "bank_statement", "statement.pdf", bytes.NewReader(full))
	wantRefusal(t, err, standing.EINVALID, "bank_statement",
		"statement.pdf contains a full card number (**** **** **** 1111).", "cover all but the last four digits")

	masked := minimalPDF("Payment card statement", "Card number: **** **** **** 1111", "Date 2024-05-12")
	f := mustInspect(t, "bank_statement", "statement.pdf", masked)
	if f.Kind != KindPDF || !bytes.Equal(f.Data, masked) {
		t.Errorf("file = %s, data changed: %v", f.Kind, !bytes.Equal(f.Data, masked))
	}
}

func TestInspectScannedPDFCardNumber(t *testing.T) {
	t.Parallel()
	scan := func(cover int) []byte {
		img := cardImage(t, 48, cover, "4111 1111 1111 1111", "JOHN SMITH  12/27")
		gray := image.NewGray(img.Rect)
		for i := range gray.Pix {
			gray.Pix[i] = img.Pix[4*i]
		}
		return scannedPDF(gray)
	}
	_, err := newInspector().Inspect(context.Background(), "card_photo", "scan.pdf", bytes.NewReader(scan(0)))
	wantRefusal(t, err, standing.EINVALID, "card_photo", "scan.pdf contains a full card number", "cover all but the last four digits")
	mustInspect(t, "card_photo", "scan.pdf", scan(12))
}

func TestInspectPhotoCardNumber(t *testing.T) {
	t.Parallel()
	lines := []string{"4111 1111 1111 1111", "JOHN SMITH   12/27"}
	t.Run("full number", func(t *testing.T) {
		t.Parallel()
		in := mustPNG(t, cardImage(t, 64, 0, lines...))
		_, err := newInspector().Inspect(context.Background(), "card_photo", "card.png", bytes.NewReader(in))
		wantRefusal(t, err, standing.EINVALID, "card_photo",
			"card.png shows a full card number (**** **** **** 1111).", "cover all but the last four digits")
	})
	t.Run("covered but the last four", func(t *testing.T) {
		t.Parallel()
		in := mustPNG(t, cardImage(t, 64, 12, lines...))
		f := mustInspect(t, "card_photo", "card.png", in)
		if f.MIME != "image/png" {
			t.Errorf("MIME = %s", f.MIME)
		}
	})
	t.Run("sideways with EXIF orientation", func(t *testing.T) {
		t.Parallel()
		// The camera stored the picture turned a quarter counter-clockwise and wrote
		// orientation 6 (turn clockwise to show); it reads only once turned upright.
		stored := orient(cardImage(t, 64, 0, lines...), 8)
		_, err := newInspector().Inspect(context.Background(), "card_photo", "IMG_7.jpg",
			bytes.NewReader(jpegWithExif(t, stored, 6)))
		wantRefusal(t, err, standing.EINVALID, "card_photo", "IMG_7.jpg shows a full card number")
	})
	t.Run("upside down without EXIF", func(t *testing.T) {
		t.Parallel()
		stored := orient(cardImage(t, 64, 0, lines...), 3)
		_, err := newInspector().Inspect(context.Background(), "card_photo", "card.jpg",
			bytes.NewReader(mustJPEG(t, stored, 90)))
		wantRefusal(t, err, standing.EINVALID, "card_photo", "card.jpg shows a full card number")
	})
	t.Run("WebP", func(t *testing.T) {
		t.Parallel()
		img := cardImage(t, 64, 0, lines...)
		w, h := img.Rect.Dx(), img.Rect.Dy()
		in := webpFile(vp8x(vp8xEXIF, w, h), riffChunk("VP8L", vp8lBlackWhite(img)), riffChunk("EXIF", exifTIFF(binary.BigEndian, 1)))
		_, err := newInspector().Inspect(context.Background(), "card_photo", "card.webp", bytes.NewReader(in))
		wantRefusal(t, err, standing.EINVALID, "card_photo", "card.webp shows a full card number")
	})
}

func TestInspectMissingTool(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no programs at all
	tests := []struct {
		name, file, pkg string
		data            []byte
	}{
		{"PDF", "statement.pdf", "poppler-utils", minimalPDF("hello")},
		{"photo", "card.png", "tesseract-ocr", mustPNG(t, twoColour(8, 8, color.White, color.Black))},
	}
	for _, tt := range tests {
		_, err := newInspector().Inspect(context.Background(), "document", tt.file, bytes.NewReader(tt.data))
		var missing *MissingToolError
		if !errors.As(err, &missing) || missing.Package != tt.pkg {
			t.Fatalf("%s: err = %v, want a MissingToolError for %s", tt.name, err, tt.pkg)
		}
		if standing.ErrorCode(err) != standing.EINTERNAL {
			t.Errorf("%s: code %s, want internal: the file is not at fault", tt.name, standing.ErrorCode(err))
		}
		if !strings.Contains(err.Error(), "install the Debian package "+tt.pkg) {
			t.Errorf("%s: error %q does not say what to install", tt.name, err)
		}
	}
}

func TestToolsCheck(t *testing.T) {
	if err := (&Tools{}).Check(); err != nil {
		t.Fatalf("the tools these tests need are missing: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	err := (&Tools{}).Check()
	var missing *MissingToolError
	if !errors.As(err, &missing) {
		t.Fatalf("err = %v, want MissingToolErrors", err)
	}
	for _, s := range []string{"pdftotext", "pdftoppm", "poppler-utils", "tesseract-ocr"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

func TestToolsTimeout(t *testing.T) {
	t.Parallel()
	tools := &Tools{Timeout: time.Nanosecond}
	_, err := tools.PDFText(context.Background(), minimalPDF("hello"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnreadable) {
		t.Errorf("err = %v, want a timeout, not an unreadable document", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&Tools{}).ImageText(ctx, twoColour(8, 8, color.White, color.Black))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestToolsTooMuchText(t *testing.T) {
	t.Parallel()
	tools := &Tools{MaxText: 10}
	_, err := tools.PDFText(context.Background(), minimalPDF("more than ten bytes of text"))
	if !errors.Is(err, ErrTooMuchText) {
		t.Errorf("err = %v, want ErrTooMuchText", err)
	}
	inspector := &Inspector{Policy: Fixed(standing.DefaultPolicy().Evidence), Text: tools}
	_, err = inspector.Inspect(context.Background(), "document", "long.pdf", bytes.NewReader(minimalPDF("more than ten bytes")))
	wantRefusal(t, err, standing.EINVALID, "document", "long.pdf holds more text than we can check.")
}

func TestInspectNeedsLimits(t *testing.T) {
	t.Parallel()
	for _, i := range []*Inspector{{}, {Policy: Fixed(standing.EvidencePolicy{})}} {
		_, err := i.Inspect(context.Background(), "f", "a.jpg", bytes.NewReader([]byte{0xFF, 0xD8, 0xFF}))
		if err == nil || standing.ErrorCode(err) != standing.EINTERNAL {
			t.Errorf("err = %v, want an internal error", err)
		}
	}
}

// TestInspectReadsThePolicyInEffect: limits changed after the Inspector was made (a
// reloaded policy) apply to the next file.
func TestInspectReadsThePolicyInEffect(t *testing.T) {
	t.Parallel()
	p := standing.DefaultPolicy().Evidence
	i := &Inspector{Policy: func() standing.EvidencePolicy { return p }, Text: &Tools{}}
	video := sized(ftyp("isom", "mp41"), 2<<20)
	if _, err := i.Inspect(context.Background(), "video", "clip.mp4", bytes.NewReader(video)); err != nil {
		t.Fatalf("under the default limit: %v", err)
	}
	p.VideoMax = 1 << 20
	_, err := i.Inspect(context.Background(), "video", "clip.mp4", bytes.NewReader(video))
	wantRefusal(t, err, standing.ETOOLARGE, "video", "clip.mp4 is 2 MB; videos can be at most 1 MB.")
}
