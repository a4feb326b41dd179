package evidence

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
)

// jpegOrientation returns the EXIF orientation of a JPEG: that of the first APP1 segment
// holding EXIF among the segments before the image data, or 1.
func jpegOrientation(data []byte) int {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 1 // not a marker: damaged, stop looking
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8: // no length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// pngOrientation returns the orientation in a PNG's eXIf chunk, or 1.
func pngOrientation(data []byte) int {
	const sig = 8
	if len(data) < sig {
		return 1
	}
	for i := sig; i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || n > len(data)-i-12 {
			return 1
		}
		switch string(data[i+4 : i+8]) {
		case "eXIf":
			return exifOrientation(data[i+8 : i+8+n])
		case "IEND":
			return 1
		}
		i += 12 + n
	}
	return 1
}

// photoConfig returns the declared dimensions of a photo without decoding it.
func photoConfig(t Type, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch t {
	case typeJPEG:
		return jpeg.DecodeConfig(r)
	case typePNG:
		return png.DecodeConfig(r)
	}
	return webpConfig(data)
}

// reencode decodes a JPEG or PNG, turns it upright and encodes it again, which leaves
// every metadata segment and chunk behind. It returns the new bytes and the upright image.
func reencode(t Type, data []byte, quality int) ([]byte, image.Image, error) {
	var (
		img image.Image
		o   int
		err error
	)
	if t == typeJPEG {
		img, err = jpeg.Decode(bytes.NewReader(data))
		o = jpegOrientation(data)
	} else {
		img, err = png.Decode(bytes.NewReader(data))
		o = pngOrientation(data)
	}
	if err != nil {
		return nil, nil, err
	}
	img = orient(img, o)
	var out bytes.Buffer
	if t == typeJPEG {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: quality})
	} else {
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&out, img)
	}
	if err != nil {
		return nil, nil, err
	}
	return out.Bytes(), img, nil
}
