package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"

	"standing"
)

// DefaultMaxPixels is the largest photo, in pixels, an Inspector decodes unless told
// otherwise: 50 megapixels, more than any phone camera makes. A few kilobytes can declare
// a picture of billions of pixels; the declared size is checked before decoding.
const DefaultMaxPixels = 50_000_000

// DefaultJPEGQuality is the quality photos are re-encoded at unless told otherwise.
const DefaultJPEGQuality = 90

// Inspector checks and cleans evidence files. Its zero value is not usable: Policy must
// return positive limits. An Inspector is safe for concurrent use.
type Inspector struct {
	// Policy returns the limits in effect; each Inspect reads it once, so a reloaded
	// policy applies from the next file on. Fixed wraps limits that never change.
	Policy func() standing.EvidencePolicy
	// Text reads text from PDFs and images to look for card numbers. Nil means Tools
	// with its defaults; there is no way to skip the check by leaving it out.
	Text TextExtractor
	// MaxPixels is the largest photo accepted, in pixels; 0 means DefaultMaxPixels.
	MaxPixels int64
	// JPEGQuality is the quality (1–100) JPEG photos are re-encoded at; 0 means
	// DefaultJPEGQuality.
	JPEGQuality int
}

// File is an evidence file that passed inspection, ready to store.
type File struct {
	Kind Kind
	MIME string // from the contents, e.g. "image/jpeg"
	Ext  string // the extension of the type, e.g. ".jpg"
	// Name is the uploaded name to show and to download the file under: its last path
	// element, without control characters, shortened if long, with the extension of the
	// real type (a PDF sent as "scan.jpg" is "scan.pdf").
	Name     string
	Size     int64  // len(Data)
	Received int64  // bytes uploaded, before cleaning
	Data     []byte // the cleaned file: photos without metadata and upright
	// Width and Height are a photo's size in pixels, upright; 0 for other kinds.
	Width, Height int
}

// Inspect reads one uploaded file and returns it checked and cleaned. field is the name
// of the form field the file came in, put in the Field of every *standing.Error; filename
// is the name the person's device gave it, used only in messages and File.Name.
//
// Inspect reads r only as far as it must: the type's limit plus one byte, and no more than
// the largest limit plus one byte to tell how large a file over its limit is.
//
// Errors: *standing.Error with code ETOOLARGE for a file over its type's limit (or a
// photo of too many pixels), EINVALID for an empty file, a type not accepted, a damaged
// or password-locked file, or one showing a full card number. Anything else — r failing,
// a text tool missing or too slow, ctx ending — is an internal error, not an *Error.
func (i *Inspector) Inspect(ctx context.Context, field, filename string, r io.Reader) (*File, error) {
	name := displayName(filename)
	if i.Policy == nil {
		return nil, errors.New("evidence: Inspector.Policy is not set")
	}
	p := i.Policy()
	largest := max(p.PhotoMax, p.PDFMax, p.VideoMax)
	if p.PhotoMax <= 0 || p.PDFMax <= 0 || p.VideoMax <= 0 {
		return nil, errors.New("evidence: Inspector.Policy must have positive size limits")
	}

	head := make([]byte, SniffLen)
	n, err := io.ReadFull(r, head)
	switch {
	case err == io.EOF:
		return nil, standing.FieldErrorf(standing.EINVALID, field,
			"%s is empty. Choose the file again; if it still fails, save it again on your device first.", subject(name))
	case err != nil && err != io.ErrUnexpectedEOF:
		return nil, readError(name, err)
	}
	head = head[:n]
	t, refused, ok := sniff(head)
	if !ok {
		return nil, wrongType(field, name, refused)
	}

	limit := int64(limitOf(p, t.Kind))
	var buf bytes.Buffer
	buf.Grow(int(min(limit+1, 1<<20)))
	buf.Write(head)
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1-int64(n))); err != nil {
		return nil, readError(name, err)
	}
	if got := int64(buf.Len()); got > limit {
		// Count the rest without keeping it, to say how large the file is.
		rest, err := io.Copy(io.Discard, io.LimitReader(r, int64(largest)+1-got))
		if err != nil {
			return nil, readError(name, err)
		}
		size := sizeText(got + rest)
		if got+rest > int64(largest) {
			size = "larger than " + limitText(int64(largest))
		}
		return nil, standing.FieldErrorf(standing.ETOOLARGE, field, "%s is %s; %s can be at most %s. %s",
			subject(name), size, kindPlural(t.Kind), limitText(limit), smallerAdvice(t.Kind))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	f := &File{
		Kind: t.Kind, MIME: t.MIME, Ext: t.Ext, Name: storedName(name, t),
		Received: int64(buf.Len()), Data: buf.Bytes(),
	}
	switch t.Kind {
	case KindPhoto:
		err = i.photo(ctx, field, name, t, f)
	case KindPDF:
		err = i.pdf(ctx, field, name, f)
	}
	if err != nil {
		return nil, err
	}
	f.Size = int64(len(f.Data))
	return f, nil
}

// limitOf returns the size limit of kind k under p.
func limitOf(p standing.EvidencePolicy, k Kind) standing.ByteSize {
	switch k {
	case KindPhoto:
		return p.PhotoMax
	case KindPDF:
		return p.PDFMax
	}
	return p.VideoMax
}

// Fixed returns a Policy function for an Inspector whose limits never change.
func Fixed(p standing.EvidencePolicy) func() standing.EvidencePolicy {
	return func() standing.EvidencePolicy { return p }
}

func (i *Inspector) text() TextExtractor {
	if i.Text != nil {
		return i.Text
	}
	return &Tools{}
}

// photo checks the pixel count, strips metadata (turning JPEG and PNG upright) and reads
// the photo's text for card numbers.
func (i *Inspector) photo(ctx context.Context, field, name string, t Type, f *File) error {
	damaged := func() error {
		return standing.FieldErrorf(standing.EINVALID, field,
			"%s looks like a %s photo but cannot be opened; it may be damaged or cut short. "+
				"Open it on your device, save or export it again, and upload the new copy.", subject(name), t.Name)
	}
	cfg, err := photoConfig(t, f.Data)
	if err != nil {
		return damaged()
	}
	maxPixels := i.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return damaged()
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return standing.FieldErrorf(standing.ETOOLARGE, field,
			"%s is %d × %d pixels (%s megapixels); photos can be at most %s megapixels. %s",
			subject(name), cfg.Width, cfg.Height, megapixels(px), megapixels(maxPixels), smallerAdvice(KindPhoto))
	}

	var img image.Image
	if t == typeWebP {
		data, err := stripWebP(f.Data)
		if errors.Is(err, errWebPAnimated) {
			return standing.FieldErrorf(standing.EINVALID, field,
				"%s is an animated WebP image. Upload a still photo (JPEG, PNG or WebP) instead.", subject(name))
		}
		if err != nil {
			return damaged()
		}
		if img, err = decodeWebP(data); err != nil {
			return damaged()
		}
		f.Data = data
	} else {
		quality := i.JPEGQuality
		if quality <= 0 || quality > 100 {
			quality = DefaultJPEGQuality
		}
		data, m, err := reencode(t, f.Data, quality)
		if err != nil {
			return damaged()
		}
		f.Data, img = data, m
	}
	f.Width, f.Height = img.Bounds().Dx(), img.Bounds().Dy()
	if err := ctx.Err(); err != nil {
		return err
	}

	text, err := i.text().ImageText(ctx, img)
	if err != nil {
		return fmt.Errorf("evidence: reading the text of %q: %w", name, err)
	}
	if masked, found := ContainsCardNumber(text); found {
		return cardError(field, name, "shows", masked)
	}
	return nil
}

// pdf reads the document's text for card numbers.
func (i *Inspector) pdf(ctx context.Context, field, name string, f *File) error {
	text, err := i.text().PDFText(ctx, f.Data)
	switch {
	case errors.Is(err, ErrUnreadable):
		return standing.FieldErrorf(standing.EINVALID, field,
			"%s cannot be opened as a PDF; it may be damaged or locked with a password. "+
				"Save or export it again without a password and upload the new copy.", subject(name))
	case errors.Is(err, ErrTooMuchText):
		return standing.FieldErrorf(standing.EINVALID, field,
			"%s holds more text than we can check. Upload only the pages that matter.", subject(name))
	case err != nil:
		return fmt.Errorf("evidence: reading the text of %q: %w", name, err)
	}
	if masked, found := ContainsCardNumber(text); found {
		return cardError(field, name, "contains", masked)
	}
	return nil
}

// cardError is the refusal of a file that shows a full card number.
func cardError(field, name, verb, masked string) error {
	return standing.FieldErrorf(standing.EINVALID, field,
		"%s %s a full card number (%s). For your safety we do not accept it: cover all but "+
			"the last four digits of the card number, then take the photo or scan again and upload it.",
		subject(name), verb, masked)
}

// wrongType is the refusal of a file whose contents are not an accepted type.
func wrongType(field, name, refused string) error {
	if refused != "" {
		return standing.FieldErrorf(standing.EINVALID, field, "%s is %s, which we cannot accept. %s%s",
			subject(name), refused, acceptedText, hints[refused])
	}
	return standing.FieldErrorf(standing.EINVALID, field,
		"%s is not a photo, PDF or video we can accept: whatever its name says, its contents "+
			"are not JPEG, PNG, WebP, PDF, MP4 or MOV. %s", subject(name), acceptedText)
}

// readError wraps a failure to read the upload; an *standing.Error passes through.
func readError(name string, err error) error {
	var se *standing.Error
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("evidence: reading %q: %w", name, err)
}

// megapixels writes a pixel count in megapixels with at most one decimal.
func megapixels(px int64) string {
	t := px / 100_000
	if t%10 == 0 {
		return fmt.Sprint(t / 10)
	}
	return fmt.Sprintf("%d.%d", t/10, t%10)
}
