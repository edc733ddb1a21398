package catalogue

import (
	"slices"
	"testing"
)

func TestExpand_AddsEveryAncestorOnce(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"flat codes stay as they are", []string{"coffee", "hot-drinks"}, []string{"coffee", "hot-drinks"}},
		{"a path brings its parents", []string{"drinks/coffee/beans"}, []string{"drinks/coffee/beans", "drinks/coffee", "drinks"}},
		{"shared parents once", []string{"drinks/coffee", "drinks/tea"}, []string{"drinks/coffee", "drinks", "drinks/tea"}},
		{"repeats dropped", []string{"a", "a"}, []string{"a"}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Expand(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWithin_IsByWholeSegments(t *testing.T) {
	tests := []struct {
		c, cat string
		want   bool
	}{
		{"drinks/coffee", "drinks", true},
		{"drinks", "drinks", true},
		{"drinks-hot", "drinks", false},
		{"drinks", "drinks/coffee", false},
		{"drinksx/coffee", "drinks", false},
	}
	for _, tt := range tests {
		if got := Within(tt.c, tt.cat); got != tt.want {
			t.Errorf("Within(%q, %q) = %v", tt.c, tt.cat, got)
		}
	}
}

func TestValidCategory(t *testing.T) {
	for c, want := range map[string]bool{"drinks": true, "drinks/coffee": true, "/drinks": false, "drinks/": false,
		"a//b": false, "": false, "a\x00": false, "a/ /b": false} {
		if ValidCategory(c) != want {
			t.Errorf("ValidCategory(%q) = %v", c, !want)
		}
	}
}
