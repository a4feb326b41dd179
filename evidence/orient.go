package evidence

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// exifOrientation returns the Orientation tag (0x0112) of IFD0 of an EXIF TIFF structure
// — the bytes after "Exif\0\0" in a JPEG's APP1 segment, or a PNG's eXIf chunk. It
// returns 1 (upright) when the structure is damaged, the tag is missing, or its value is
// not one of the eight orientations. It never reads outside b.
func exifOrientation(b []byte) int {
	if len(b) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := uint64(bo.Uint32(b[4:]))
	if ifd < 8 || ifd+2 > uint64(len(b)) {
		return 1
	}
	n := uint64(bo.Uint16(b[ifd:]))
	for k := range n {
		e := ifd + 2 + 12*k
		if e+12 > uint64(len(b)) {
			break
		}
		if bo.Uint16(b[e:]) != 0x0112 {
			continue
		}
		if bo.Uint32(b[e+4:]) < 1 { // count
			return 1
		}
		var v uint32
		switch bo.Uint16(b[e+2:]) { // type; a single value sits in the entry itself
		case 3: // SHORT, the type the standard gives
			v = uint32(bo.Uint16(b[e+8:]))
		case 4: // LONG, written by some software
			v = bo.Uint32(b[e+8:])
		case 1: // BYTE
			v = uint32(b[e+8])
		default:
			return 1
		}
		if v >= 1 && v <= 8 {
			return int(v)
		}
		return 1
	}
	return 1
}

// orient returns img turned so that it shows as the camera meant, given its EXIF
// orientation (1 to 8); o == 1 returns img itself. The result has the same pixel type
// (YCbCr with subsampling other than 4:4:4 and 4:2:0, and unusual types, become RGBA).
//
//	1 upright             2 mirrored left–right   3 turned 180°
//	4 mirrored top–bottom 5 mirrored on the main diagonal
//	6 needs 90° clockwise 7 mirrored on the other diagonal
//	8 needs 90° counter-clockwise
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	dr := image.Rect(0, 0, w, h)
	if o >= 5 {
		dr = image.Rect(0, 0, h, w)
	}
	turn := func(pix []byte, stride, bpp int) ([]byte, int) {
		return orientPlane(pix, stride, w, h, bpp, o), dr.Dx() * bpp
	}
	switch m := img.(type) {
	case *image.RGBA:
		p, s := turn(m.Pix, m.Stride, 4)
		return &image.RGBA{Pix: p, Stride: s, Rect: dr}
	case *image.NRGBA:
		p, s := turn(m.Pix, m.Stride, 4)
		return &image.NRGBA{Pix: p, Stride: s, Rect: dr}
	case *image.RGBA64:
		p, s := turn(m.Pix, m.Stride, 8)
		return &image.RGBA64{Pix: p, Stride: s, Rect: dr}
	case *image.NRGBA64:
		p, s := turn(m.Pix, m.Stride, 8)
		return &image.NRGBA64{Pix: p, Stride: s, Rect: dr}
	case *image.Gray:
		p, s := turn(m.Pix, m.Stride, 1)
		return &image.Gray{Pix: p, Stride: s, Rect: dr}
	case *image.Gray16:
		p, s := turn(m.Pix, m.Stride, 2)
		return &image.Gray16{Pix: p, Stride: s, Rect: dr}
	case *image.CMYK:
		p, s := turn(m.Pix, m.Stride, 4)
		return &image.CMYK{Pix: p, Stride: s, Rect: dr}
	case *image.Paletted:
		p, s := turn(m.Pix, m.Stride, 1)
		return &image.Paletted{Pix: p, Stride: s, Rect: dr, Palette: m.Palette}
	case *image.YCbCr:
		// 4:4:4, and 4:2:0 of even width and height, stay what they are when turned: each
		// plane turns on its own. (With an odd size, the last chroma samples cover half
		// blocks, which a flip would move to the other edge; JPEG decoders put the image
		// at (0, 0), so chroma samples line up with it.)
		even := w%2 == 0 && h%2 == 0
		if r.Min == (image.Point{}) && (m.SubsampleRatio == image.YCbCrSubsampleRatio444 ||
			m.SubsampleRatio == image.YCbCrSubsampleRatio420 && even) {
			cw, ch := w, h
			if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
				cw, ch = (w+1)/2, (h+1)/2
			}
			out := &image.YCbCr{SubsampleRatio: m.SubsampleRatio, Rect: dr}
			out.Y, out.YStride = turn(m.Y, m.YStride, 1)
			out.Cb = orientPlane(m.Cb, m.CStride, cw, ch, 1, o)
			out.Cr = orientPlane(m.Cr, m.CStride, cw, ch, 1, o)
			out.CStride = cw
			if o >= 5 {
				out.CStride = ch
			}
			return out
		}
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Rect, img, r.Min, draw.Src)
	return orient(rgba, o)
}

// orientPlane returns a new w×h plane of pixels of bpp bytes turned by orientation o
// (2 to 8); its rows are packed (stride = new width × bpp).
func orientPlane(pix []byte, stride, w, h, bpp, o int) []byte {
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// The stored pixel shown at (dx, dy) is (sx, sy) = (a·dx + b·dy + c, d·dx + e·dy + f).
	var a, b, c, d, e, f int
	switch o {
	case 2:
		a, c, e = -1, w-1, 1
	case 3:
		a, c, e, f = -1, w-1, -1, h-1
	case 4:
		a, e, f = 1, -1, h-1
	case 5:
		b, d = 1, 1
	case 6:
		b, d, f = 1, -1, h-1
	case 7:
		b, c, d, f = -1, w-1, -1, h-1
	case 8:
		b, c, d = -1, w-1, 1
	default:
		a, e = 1, 1
	}
	out := make([]byte, dw*dh*bpp)
	step := d*stride + a*bpp // from one shown pixel to the next along a row
	for dy := range dh {
		s := (e*dy+f)*stride + (b*dy+c)*bpp
		row := out[dy*dw*bpp : (dy+1)*dw*bpp]
		switch bpp {
		case 1:
			for dx := range row {
				row[dx] = pix[s]
				s += step
			}
		case 4:
			for i := 0; i < len(row); i += 4 {
				copy(row[i:i+4:i+4], pix[s:s+4:s+4])
				s += step
			}
		default:
			for i := 0; i < len(row); i += bpp {
				copy(row[i:i+bpp], pix[s:s+bpp])
				s += step
			}
		}
	}
	return out
}
