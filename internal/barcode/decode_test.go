package barcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// zbarPrefix is what zbarimg prints before the data when --raw is not given.
var zbarPrefix = map[Symbology]string{Code128: "CODE-128:", EAN8: "EAN-8:"}

// requireZbarimg returns zbarimg's path. A developer machine without zbar
// skips; in CI (CI=true) a missing decoder is a broken image, not a pass.
func requireZbarimg(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("zbarimg")
	if err == nil {
		return path
	}
	const msg = "zbarimg not found on PATH (install Debian package zbar-tools): %v"
	if os.Getenv("CI") == "true" {
		t.Fatalf(msg, err)
	}
	t.Skipf(msg, err)
	return ""
}

// zbar runs zbarimg and returns its stdout. Stderr is kept apart because
// zbarimg's ImageMagick backend may log unrelated noise (e.g. D-Bus) there.
func zbar(t *testing.T, zbarimg string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(zbarimg, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// Exit status 4 means "no symbol found".
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", cmd, err, stdout.String(), stderr.String())
	}
	return strings.TrimSuffix(stdout.String(), "\n")
}

func TestPNGDecodesWithZbarimg(t *testing.T) {
	zbarimg := requireZbarimg(t)
	for _, sym := range []Symbology{Code128, EAN8} {
		for _, code := range validEAN8 {
			for _, scale := range []int{1, 0} {
				t.Run(string(sym)+"/"+code+"/scale"+strconv.Itoa(scale), func(t *testing.T) {
					t.Parallel()
					file := filepath.Join(t.TempDir(), code+".png")
					var buf bytes.Buffer
					if err := PNG(&buf, code, sym, scale); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					if got := zbar(t, zbarimg, "--quiet", "--raw", file); got != code {
						t.Errorf("zbarimg --raw decoded %q, want %q", got, code)
					}
					// Without --raw zbar names the symbology, which proves the
					// image was read as the one we asked for.
					if got, want := zbar(t, zbarimg, "--quiet", file), zbarPrefix[sym]+code; got != want {
						t.Errorf("zbarimg decoded %q, want %q", got, want)
					}
				})
			}
		}
	}
}

// TestSVGAndPNGShareModules reads the bar pattern back out of both outputs,
// one entry per module across the whole canvas, and checks that they agree
// with each other and with the encoder's modules framed by quiet zones.
func TestSVGAndPNGShareModules(t *testing.T) {
	for _, sym := range []Symbology{Code128, EAN8} {
		for _, code := range validEAN8 {
			t.Run(string(sym)+"/"+code, func(t *testing.T) {
				var svgBuf bytes.Buffer
				if err := SVG(&svgBuf, code, sym); err != nil {
					t.Fatal(err)
				}
				doc := parseSVG(t, svgBuf.Bytes())
				if doc.Text != code {
					t.Errorf("SVG text = %q, want %q", doc.Text, code)
				}
				var vbW, vbH int
				if _, err := fmt.Sscanf(doc.ViewBox, "0 0 %d %d", &vbW, &vbH); err != nil {
					t.Fatalf("viewBox %q: %v", doc.ViewBox, err)
				}
				if doc.Width != strconv.Itoa(vbW*defaultScale) || doc.Height != strconv.Itoa(vbH*defaultScale) {
					t.Errorf("width/height = %s/%s, want viewBox x %d", doc.Width, doc.Height, defaultScale)
				}
				svgRow := make([]bool, vbW)
				for _, r := range doc.Bars {
					if r.Y != doc.Bars[0].Y || r.Height != doc.Bars[0].Height {
						t.Errorf("bar %+v not aligned with first bar %+v", r, doc.Bars[0])
					}
					for x := r.X; x < r.X+r.Width; x++ {
						svgRow[x] = true
					}
				}

				const scale = 4
				var pngBuf bytes.Buffer
				if err := PNG(&pngBuf, code, sym, scale); err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(&pngBuf)
				if err != nil {
					t.Fatal(err)
				}
				if got := img.Bounds().Size(); got != image.Pt(vbW*scale, vbH*scale) {
					t.Fatalf("PNG is %v, want the SVG viewBox (%d x %d) times %d", got, vbW, vbH, scale)
				}
				pngRow := pngModules(t, img, scale, (doc.Bars[0].Y+doc.Bars[0].Height/2)*scale)

				if !slices.Equal(svgRow, pngRow) {
					t.Fatalf("SVG and PNG bar patterns differ\nsvg %s\npng %s", bits(svgRow), bits(pngRow))
				}
				mods, err := modules(code, sym)
				if err != nil {
					t.Fatal(err)
				}
				first := slices.Index(svgRow, true)
				if first < 0 {
					t.Fatal("SVG has no bars")
				}
				last := len(svgRow) - 1
				for last > first && !svgRow[last] {
					last--
				}
				if first < quietZone || len(svgRow)-1-last < quietZone {
					t.Errorf("quiet zones %d and %d modules, want >= %d", first, len(svgRow)-1-last, quietZone)
				}
				if !slices.Equal(svgRow[first:last+1], mods) {
					t.Errorf("bar pattern differs from encoder modules\ngot  %s\nwant %s", bits(svgRow[first:last+1]), bits(mods))
				}
			})
		}
	}
}

// pngModules samples row y of img once per module, checking that every pixel
// within a module has the same colour (i.e. bars sit on module boundaries).
func pngModules(t *testing.T, img image.Image, scale, y int) []bool {
	t.Helper()
	row := make([]bool, img.Bounds().Dx()/scale)
	for m := range row {
		for px := m * scale; px < (m+1)*scale; px++ {
			dark := color.GrayModel.Convert(img.At(px, y)).(color.Gray).Y < 0x80
			if px == m*scale {
				row[m] = dark
			} else if dark != row[m] {
				t.Fatalf("module %d is not uniform at pixel %d", m, px)
			}
		}
	}
	return row
}

func bits(b []bool) string {
	var s strings.Builder
	for _, v := range b {
		s.WriteByte(".#"[btoi(v)])
	}
	return s.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
