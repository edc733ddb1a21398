package barcode

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

type svgRect struct {
	X      int `xml:"x,attr"`
	Y      int `xml:"y,attr"`
	Width  int `xml:"width,attr"`
	Height int `xml:"height,attr"`
}

// svgDoc is the part of our SVG the tests inspect; bars are the rects in <g>.
type svgDoc struct {
	XMLName xml.Name  `xml:"http://www.w3.org/2000/svg svg"`
	Width   string    `xml:"width,attr"`
	Height  string    `xml:"height,attr"`
	ViewBox string    `xml:"viewBox,attr"`
	Bars    []svgRect `xml:"g>rect"`
	Text    string    `xml:"text"`
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("SVG is not valid XML: %v\n%s", err, data)
	}
	return doc
}

// TestSVGGolden pins the exact SVG so that layout changes show up in review.
// After an intended change run: go test ./internal/barcode/ -run Golden -update
func TestSVGGolden(t *testing.T) {
	tests := []struct {
		file    string
		content string
		sym     Symbology
	}{
		{"code128-40170725.svg", "40170725", Code128},
		{"ean8-40170725.svg", "40170725", EAN8},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := SVG(&buf, tt.content, tt.sym); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("SVG differs from %s (run with -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// TestSVGEscapesContent checks that Code 128 content with XML/HTML
// metacharacters cannot break out of the text node or the aria-label.
func TestSVGEscapesContent(t *testing.T) {
	const content = `"><script>alert('x')</script>&`
	var buf bytes.Buffer
	if err := SVG(&buf, content, Code128); err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, buf.Bytes())
	if doc.Text != content {
		t.Errorf("text = %q, want %q", doc.Text, content)
	}
	if strings.Contains(buf.String(), "<script") {
		t.Errorf("unescaped markup in output:\n%s", buf.String())
	}
}

// TestSVGSelfContained guards the "no external references" promise: the
// only URL allowed is the SVG namespace name, which is never fetched.
func TestSVGSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := SVG(&buf, "40170725", EAN8); err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(buf.String(), `xmlns="http://www.w3.org/2000/svg"`, "", 1)
	for _, bad := range []string{"http:", "https:", "href", "url(", "@import", "<image", "<script", "<?xml"} {
		if strings.Contains(s, bad) {
			t.Errorf("SVG contains %q", bad)
		}
	}
	for _, want := range []string{`shape-rendering="crispEdges"`, `font-family="monospace"`, `viewBox="`} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %s", want)
		}
	}
}
