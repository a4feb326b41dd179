package evidence

import (
	"image"
	"image/color"
	"testing"
)

func TestOCRImage(t *testing.T) {
	sizes := []struct{ w, h, dw, dh int }{
		{100, 50, 400, 200},     // enlarged at most 4×
		{800, 600, 2400, 1800},  // enlarged to the long side
		{4800, 1200, 2400, 600}, // reduced
		{2400, 10, 2400, 10},    // as it is
		{1, 1, 4, 4},
	}
	for _, s := range sizes {
		for _, img := range []image.Image{
			image.NewRGBA(image.Rect(0, 0, s.w, s.h)),
			image.NewYCbCr(image.Rect(0, 0, s.w, s.h), image.YCbCrSubsampleRatio420),
		} {
			if g := ocrImage(img); g.Rect.Dx() != s.dw || g.Rect.Dy() != s.dh {
				t.Errorf("ocrImage(%T %d×%d) is %v, want %d×%d", img, s.w, s.h, g.Rect.Size(), s.dw, s.dh)
			}
		}
	}
}

func TestToGray(t *testing.T) {
	r := image.Rect(0, 0, 2, 1)
	rgba := image.NewRGBA(r)
	rgba.SetRGBA(0, 0, color.RGBA{A: 255}) // black; (1, 0) is transparent
	nrgba := image.NewNRGBA(r)
	nrgba.SetNRGBA(0, 0, color.NRGBA{A: 255})
	nrgba.SetNRGBA(1, 0, color.NRGBA{R: 0, G: 0, B: 0, A: 0})
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
	ycc.Y[0], ycc.Y[1] = 0, 255
	gray := image.NewGray(r)
	gray.Pix[1] = 255
	paletted := image.NewPaletted(r, color.Palette{color.Black, color.Transparent})
	paletted.Pix[1] = 1
	sub := image.NewRGBA(image.Rect(-5, -5, 5, 5))
	sub.SetRGBA(3, 2, color.RGBA{A: 255})
	subImg := sub.SubImage(image.Rect(3, 2, 5, 3))
	for _, img := range []image.Image{rgba, nrgba, ycc, gray, paletted, subImg} {
		g := toGray(img)
		if g.Rect != r || g.Pix[0] != 0 || g.Pix[1] != 255 {
			t.Errorf("toGray(%T) = %v %v, want black then white", img, g.Rect, g.Pix)
		}
	}
}

func TestShrinkGray(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 4, 2))
	copy(g.Pix, []uint8{0, 100, 200, 200, 100, 0, 50, 50})
	got := shrinkGray(g, 2, 1)
	if want := []uint8{50, 125}; got.Pix[0] != want[0] || got.Pix[1] != want[1] {
		t.Errorf("shrinkGray = %v, want %v", got.Pix, want)
	}
}
