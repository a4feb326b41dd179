package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"

	xdraw "golang.org/x/image/draw"
)

// TextExtractor reads the text of evidence so that it can be checked for card numbers.
// Tools is the implementation; tests of code that uses an Inspector may swap in another.
type TextExtractor interface {
	// PDFText returns the text of a PDF document. It returns an error wrapping
	// ErrUnreadable when the document cannot be opened (damaged, or locked with a
	// password), ErrTooMuchText when its text is larger than can be checked, and any other
	// error (a missing program, a timeout) when the fault is ours.
	PDFText(ctx context.Context, pdf []byte) (string, error)
	// ImageText returns the text OCR reads in img, which is upright.
	ImageText(ctx context.Context, img image.Image) (string, error)
}

var (
	// ErrUnreadable is wrapped by TextExtractor errors for documents that cannot be opened.
	ErrUnreadable = errors.New("evidence: the document cannot be opened")
	// ErrTooMuchText is wrapped by TextExtractor errors for documents whose text is larger
	// than can be checked.
	ErrTooMuchText = errors.New("evidence: the document holds too much text to check")
)

// MissingToolError is the error of a TextExtractor whose program is not installed. It is
// an internal error: the operator must install Package.
type MissingToolError struct {
	Tool    string // the program, e.g. "tesseract"
	Package string // the Debian package that installs it, e.g. "tesseract-ocr"
}

// Error says which program is missing and which package to install.
func (e *MissingToolError) Error() string {
	return fmt.Sprintf("evidence: the program %s is not installed; install the Debian package %s", e.Tool, e.Package)
}

// Tools is the TextExtractor that runs programs: pdftotext and pdftoppm (Debian package
// poppler-utils) for PDFs and tesseract (Debian package tesseract-ocr) for images. Each
// run gets the document on its standard input and writes text to its standard output, so
// nothing is left on disk, and is killed when it takes longer than Timeout or ctx ends.
// The zero value is ready to use.
type Tools struct {
	Timeout      time.Duration // per program run; 0 means DefaultToolTimeout
	Languages    string        // tesseract languages, e.g. "eng+rus"; "" means "eng"
	ScannedPages int           // pages without text to read by OCR; 0 means 5, < 0 none
	MaxText      int           // bytes of text a document may hold; 0 means 32 MiB
}

// Check reports whether the programs Tools runs are installed: nil, or a
// *MissingToolError for each one missing (joined). Call it at start-up to fail early
// rather than at the first upload.
func (t *Tools) Check() error {
	var errs []error
	for _, p := range []MissingToolError{
		{"pdftotext", "poppler-utils"}, {"pdftoppm", "poppler-utils"}, {"tesseract", "tesseract-ocr"},
	} {
		if _, err := exec.LookPath(p.Tool); err != nil {
			errs = append(errs, &p)
		}
	}
	return errors.Join(errs...)
}

// DefaultToolTimeout is how long one program run may take unless Tools says otherwise.
const DefaultToolTimeout = 60 * time.Second

// minPageText is how many letters and digits a PDF page needs not to count as a scan.
const minPageText = 16

// ocrLongSide is the length, in pixels, of the long side of images given to tesseract:
// digits on a card photographed whole are then some 30–60 pixels high, where tesseract
// reads best. Smaller images are enlarged (at most 4×), larger ones reduced.
const ocrLongSide = 2400

// PDFText returns the text of a PDF read by pdftotext, followed by the text OCR reads on
// the first ScannedPages pages that have (almost) no text of their own: scans.
func (t *Tools) PDFText(ctx context.Context, pdf []byte) (string, error) {
	out, err := t.run(ctx, "pdftotext", "poppler-utils", pdf, "-enc", "UTF-8", "-eol", "unix", "-", "-")
	if err != nil {
		return "", pdfError(err)
	}
	text := string(out)
	pages := strings.Split(strings.TrimSuffix(text, "\f"), "\f")
	budget := t.ScannedPages
	if budget == 0 {
		budget = 5
	}
	var b strings.Builder
	b.WriteString(text)
	for i, page := range pages {
		if budget <= 0 {
			break
		}
		if countAlnum(page) >= minPageText {
			continue
		}
		budget--
		n := strconv.Itoa(i + 1)
		img, err := t.run(ctx, "pdftoppm", "poppler-utils", pdf,
			"-f", n, "-l", n, "-singlefile", "-gray", "-png", "-scale-to", strconv.Itoa(ocrLongSide), "-")
		if err != nil {
			return "", pdfError(err)
		}
		page, err := png.Decode(bytes.NewReader(img))
		if err != nil {
			return "", fmt.Errorf("evidence: pdftoppm wrote no PNG: %w", err)
		}
		ocr, err := t.ImageText(ctx, page)
		if err != nil {
			return "", err
		}
		b.WriteString("\n")
		b.WriteString(ocr)
	}
	if max := t.maxText(); b.Len() > max {
		return "", ErrTooMuchText
	}
	return b.String(), nil
}

// pdfError marks a failed poppler run as an unreadable document; a missing program or a
// timeout stays what it is.
func pdfError(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	return err
}

// ImageText returns the text tesseract reads in img, turned grey and scaled to suit it.
// When the upright reading is not confident (the photo may be sideways or upside down),
// it reads the image turned a quarter both ways and half a turn as well, stopping at the
// first confident reading, and returns every reading. Letters OCR often reads for digits
// inside numbers (O for 0, l or L for 1, S for 5, B for 8) are given back as the digits.
func (t *Tools) ImageText(ctx context.Context, img image.Image) (string, error) {
	gray := ocrImage(img)
	var texts []string
	for _, o := range []int{1, 6, 8, 3} {
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, orient(gray, o)); err != nil {
			return "", err
		}
		text, confident, err := t.tesseract(ctx, buf.Bytes())
		if err != nil {
			return "", err
		}
		texts = append(texts, text)
		if confident {
			break
		}
	}
	return strings.Join(texts, "\n"), nil
}

// tesseract runs OCR on an image file's bytes. It returns the text with digits fixed, and
// whether the reading is confident: at least a few letters or digits, read with a mean
// confidence of 65 or more.
func (t *Tools) tesseract(ctx context.Context, img []byte) (string, bool, error) {
	langs := t.Languages
	if langs == "" {
		langs = "eng"
	}
	// --psm 11 (sparse text) finds numbers scattered on a card as well as lines of a page;
	// "tsv" gives each word with its confidence.
	out, err := t.run(ctx, "tesseract", "tesseract-ocr", img,
		"stdin", "stdout", "-l", langs, "--psm", "11", "--dpi", "300", "tsv")
	if err != nil {
		return "", false, err
	}
	text, conf, chars := parseTSV(string(out))
	return fixOCRDigits(text), chars >= 4 && conf >= 65, nil
}

// parseTSV turns tesseract's TSV output into text, a line per line it found, and returns
// the mean confidence of the words weighted by their letters and digits, and their count.
func parseTSV(tsv string) (text string, conf float64, chars int) {
	var (
		b        strings.Builder
		lastLine string
		sum      float64
	)
	for _, row := range strings.Split(tsv, "\n") {
		// level page block par line word left top width height conf text
		f := strings.SplitN(row, "\t", 12)
		if len(f) < 12 || f[0] != "5" {
			continue
		}
		word := strings.TrimSpace(f[11])
		if word == "" {
			continue
		}
		if line := f[2] + "." + f[3] + "." + f[4]; line != lastLine {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			lastLine = line
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(word)
		c, err := strconv.ParseFloat(f[10], 64)
		if err != nil || c < 0 {
			c = 0
		}
		n := countAlnum(word)
		sum += c * float64(n)
		chars += n
	}
	if chars > 0 {
		conf = sum / float64(chars)
	}
	return b.String(), conf, chars
}

func (t *Tools) maxText() int {
	if t.MaxText > 0 {
		return t.MaxText
	}
	return 32 << 20
}

// run runs a program with stdin as its standard input and returns its standard output.
func (t *Tools) run(ctx context.Context, tool, pkg string, stdin []byte, args ...string) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, &MissingToolError{Tool: tool, Package: pkg}
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultToolTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	stdout := &capped{max: t.maxText(), cancel: cancel}
	stderr := &capped{max: 2048}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// One thread per tesseract: requests run side by side, and OpenMP's threads would
	// only fight over the cores (tesseract's own advice).
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case stdout.over:
		return nil, ErrTooMuchText
	case ctx.Err() != nil:
		return nil, fmt.Errorf("evidence: %s: %w", tool, ctx.Err())
	case runCtx.Err() != nil:
		return nil, fmt.Errorf("evidence: %s took longer than %s: %w", tool, timeout, runCtx.Err())
	case err != nil:
		msg := strings.TrimSpace(string(stderr.buf))
		return nil, fmt.Errorf("evidence: %s: %w: %s", tool, err, msg)
	}
	return stdout.buf, nil
}

// capped is a writer that keeps at most max bytes. Past that, it notes the overflow and
// calls cancel (if set) to stop the program writing, or else drops the rest silently.
type capped struct {
	buf    []byte
	max    int
	over   bool
	cancel func()
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); len(p) > room {
		c.buf = append(c.buf, p[:max(room, 0)]...)
		if c.cancel != nil {
			c.over = true
			c.cancel()
		}
		return len(p), nil
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// ocrImage returns img in grey, scaled so that its long side is ocrLongSide pixels (but
// enlarged at most 4×). Transparent areas are laid on white.
func ocrImage(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	scale := min(float64(ocrLongSide)/float64(max(w, h, 1)), 4)
	dw, dh := max(1, int(float64(w)*scale+0.5)), max(1, int(float64(h)*scale+0.5))
	if scale <= 1 {
		return shrinkGray(toGray(img), dw, dh)
	}
	// Enlarging: a smooth kernel gives tesseract clean edges to work on.
	rgba := image.NewRGBA(image.Rect(0, 0, dw, dh))
	xdraw.CatmullRom.Scale(rgba, rgba.Rect, img, b, xdraw.Src, nil)
	return toGray(rgba)
}

// toGray returns img in grey, at (0, 0). The luma plane of YCbCr is taken as it is.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			copy(out.Pix[y*w:(y+1)*w], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr:
		for y := range h {
			copy(out.Pix[y*w:(y+1)*w], m.Y[m.YOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.RGBA: // premultiplied: luma + (255 - alpha) lays it on white
		for y := range h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				p := src[4*x : 4*x+4 : 4*x+4]
				out.Pix[y*w+x] = uint8(luma(p[0], p[1], p[2]) + 255 - int(p[3]))
			}
		}
	case *image.NRGBA: // not premultiplied: mix luma and white by alpha
		for y := range h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				p := src[4*x : 4*x+4 : 4*x+4]
				a := int(p[3])
				out.Pix[y*w+x] = uint8((luma(p[0], p[1], p[2])*a + 255*(255-a) + 127) / 255)
			}
		}
	default:
		for y := range h {
			for x := range w {
				r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA() // premultiplied, 16 bits
				out.Pix[y*w+x] = uint8(luma(uint8(r>>8), uint8(g>>8), uint8(bl>>8)) + 255 - int(a>>8))
			}
		}
	}
	return out
}

// luma is the grey of a colour (ITU-R BT.601, as image/color has it).
func luma(r, g, b uint8) int {
	return (19595*int(r) + 38470*int(g) + 7471*int(b) + 1<<15) >> 16
}

// shrinkGray scales g down to dw×dh by averaging the pixels each new pixel covers.
func shrinkGray(g *image.Gray, dw, dh int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	if dw == w && dh == h {
		return g
	}
	out := image.NewGray(image.Rect(0, 0, dw, dh))
	sums := make([]int, dw)
	counts := make([]int, dw)
	for dy := range dh {
		clear(sums)
		clear(counts)
		for y := dy * h / dh; y < (dy+1)*h/dh; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for dx := range dw {
				for x := dx * w / dw; x < (dx+1)*w/dw; x++ {
					sums[dx] += int(row[x])
					counts[dx]++
				}
			}
		}
		for dx := range dw {
			if counts[dx] > 0 {
				out.Pix[dy*dw+dx] = uint8(sums[dx] / counts[dx])
			}
		}
	}
	return out
}

// countAlnum counts the letters and digits of s.
func countAlnum(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// ocrDigits are letters OCR reads for digits.
var ocrDigits = map[rune]rune{
	'O': '0', 'o': '0', 'D': '0', 'Q': '0',
	'I': '1', 'l': '1', 'i': '1', 'L': '1', '|': '1', '!': '1',
	'S': '5', 's': '5', 'B': '8', 'Z': '2', 'z': '2', 'G': '6', 'b': '6', 'q': '9', 'g': '9',
}

// fixOCRDigits gives back the digits of words that are mostly digits with a few letters
// OCR confused for digits ("4111 1l11 111I" is "4111 1111 1111"). Words with fewer digits
// than letters are left alone, so text stays text.
func fixOCRDigits(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	word := func(w string) {
		digits, confused := 0, 0
		for _, r := range w {
			if r >= '0' && r <= '9' {
				digits++
			} else if _, ok := ocrDigits[r]; ok {
				confused++
			} else {
				b.WriteString(w)
				return
			}
		}
		if confused == 0 || digits < 2 || confused > digits {
			b.WriteString(w)
			return
		}
		for _, r := range w {
			if d, ok := ocrDigits[r]; ok {
				r = d
			}
			b.WriteRune(r)
		}
	}
	start := -1
	for i, r := range text {
		if unicode.IsSpace(r) || r == '-' {
			if start >= 0 {
				word(text[start:i])
				start = -1
			}
			b.WriteRune(r)
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		word(text[start:])
	}
	return b.String()
}
