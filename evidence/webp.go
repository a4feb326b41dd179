package evidence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"

	"golang.org/x/image/webp"
)

// VP8X flags (WebP container specification).
const (
	vp8xAnimation = 1 << 1
	vp8xXMP       = 1 << 2
	vp8xEXIF      = 1 << 3
	vp8xICC       = 1 << 5
)

var (
	errWebPDamaged  = errors.New("evidence: damaged WebP container")
	errWebPAnimated = errors.New("evidence: animated WebP")
)

// webpImageChunks are the chunks that carry the picture; everything else (EXIF, XMP,
// the colour profile, unknown chunks) is dropped.
var webpImageChunks = map[string]bool{"VP8X": true, "VP8 ": true, "VP8L": true, "ALPH": true}

// stripWebP rewrites a WebP file keeping only the chunks that carry the picture, in their
// order and byte for byte, and clears the VP8X flags of what it dropped. Bytes after the
// RIFF container are dropped too. Animated files are refused with errWebPAnimated (no
// decoder here can check their frames); a container whose chunks do not add up is
// errWebPDamaged.
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, errWebPDamaged
	}
	size := uint64(binary.LittleEndian.Uint32(data[4:]))
	if size < 4 || 8+size > uint64(len(data)) {
		return nil, errWebPDamaged
	}
	body := data[12 : 8+size]
	out := make([]byte, 12, len(data))
	copy(out, "RIFF\x00\x00\x00\x00WEBP")
	var pictures, vp8x int
	for len(body) > 0 {
		if len(body) < 8 {
			return nil, errWebPDamaged
		}
		id := string(body[:4])
		n := uint64(binary.LittleEndian.Uint32(body[4:]))
		padded := n + n&1
		if 8+n > uint64(len(body)) {
			return nil, errWebPDamaged
		}
		// The padding byte of the last chunk is sometimes missing; tolerate that.
		end := min(8+padded, uint64(len(body)))
		chunk := body[:end]
		body = body[end:]
		switch {
		case id == "ANIM" || id == "ANMF":
			return nil, errWebPAnimated
		case !webpImageChunks[id]:
			continue
		case id == "VP8X":
			if n != 10 || vp8x > 0 || len(out) != 12 {
				return nil, errWebPDamaged
			}
			vp8x++
			if chunk[8]&vp8xAnimation != 0 {
				return nil, errWebPAnimated
			}
			start := len(out)
			out = append(out, chunk...)
			out[start+8] &^= vp8xEXIF | vp8xXMP | vp8xICC
			continue
		case id == "VP8 " || id == "VP8L":
			pictures++
		}
		out = append(out, chunk...)
		if n&1 == 1 && uint64(len(chunk)) == 8+n {
			out = append(out, 0)
		}
	}
	if pictures != 1 {
		return nil, errWebPDamaged
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}

// webpConfig returns the declared dimensions of a WebP file.
func webpConfig(data []byte) (image.Config, error) {
	return webp.DecodeConfig(bytes.NewReader(data))
}

// decodeWebP decodes a WebP file.
func decodeWebP(data []byte) (image.Image, error) {
	return webp.Decode(bytes.NewReader(data))
}
