package journey

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AbandonmentJourney is the name of the built-in basket abandonment
// journey.
const AbandonmentJourney = "cart-abandonment"

// Abandonment is the built-in basket abandonment journey: a member whose
// cart is abandoned (cart_abandoned, raised AbandonAfter after the cart
// without a purchase: 2 h by default) is texted a reminder with their card
// link at once, which the contact policy sends within quiet hours; buying
// afterwards (cart_recovered) within 7 days is the goal, counted against a
// 10% holdout. A member may come back through it a week after they left it.
func Abandonment() Definition {
	return Definition{
		Name:        AbandonmentJourney,
		Description: "Built in: remind a member of the cart they left, once it is abandoned; recovery against a 10% holdout",
		Trigger:     Filter{Event: CartAbandoned},
		Reentry:     ReentryAfterExit,
		Cooldown:    Duration(7 * 24 * time.Hour),
		Goal:        &Goal{Filter: Filter{Event: CartRecovered}, Within: Duration(7 * 24 * time.Hour)},
		Holdout:     10,
		Steps: []Step{
			{ID: "reminder", SMS: "{{.Programme}}: your basket is still waiting for you. Your card: {{.CardURL}}"},
		},
	}
}

// InstallBuiltin creates the built-in journeys that do not exist yet and
// launches them; one that exists, in whatever state an operator left it
// (edited, stopped), is left alone, so stopping it is how a programme opts
// out. It returns the names it installed. Two instances starting at once
// install it once: the loser of the race finds it there.
func (s *Service) InstallBuiltin(ctx context.Context) ([]string, error) {
	var out []string
	for _, def := range []Definition{Abandonment()} {
		if _, err := s.Get(ctx, def.Name); err == nil {
			continue
		} else if !errors.Is(err, ErrNotFound) {
			return out, err
		}
		a, err := s.Apply(ctx, def)
		if err != nil {
			if _, gerr := s.Get(ctx, def.Name); gerr == nil {
				continue // another instance created it meanwhile
			}
			return out, fmt.Errorf("journey: install %s: %w", def.Name, err)
		}
		if a.Outcome != "created" {
			continue
		}
		if _, err := s.Launch(ctx, def.Name); err != nil && !errors.Is(err, ErrStatus) {
			return out, fmt.Errorf("journey: launch %s: %w", def.Name, err)
		}
		out = append(out, def.Name)
	}
	return out, nil
}
