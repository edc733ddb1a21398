package links_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestLinks_ShortenClickCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := links.NewService(db, "https://perk.test/", func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) })
		short, err := s.Shorten(ctx, nil, links.Link{URL: "https://shop.example.com/spring?utm=sms", Campaign: "spring"})
		if err != nil || !strings.HasPrefix(short, "https://perk.test/l/") || len(short) != len("https://perk.test/l/")+8 {
			t.Fatalf("Shorten = %q, %v", short, err)
		}
		code := strings.TrimPrefix(short, "https://perk.test/l/")
		for i := 0; i < 2; i++ {
			target, err := s.Click(ctx, code)
			if err != nil || target != "https://shop.example.com/spring?utm=sms" {
				t.Fatalf("Click = %q, %v", target, err)
			}
		}
		if n, _ := s.Clicks(ctx, code); n != 2 {
			t.Fatalf("%d clicks, want 2", n)
		}
		if _, err := s.Click(ctx, "nope"); !errors.Is(err, links.ErrNotFound) {
			t.Fatalf("unknown code: %v", err)
		}
		for _, bad := range []string{"javascript:alert(1)", "ftp://x", "/relative", "https://"} {
			if _, err := s.Shorten(ctx, nil, links.Link{URL: bad}); err == nil {
				t.Errorf("shortened %q", bad)
			}
		}
	})
}
