package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/clock"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/sms"
)

// parseClock reads --clock into c.simClock (nil: the wall clock). A
// simulated clock is refused with a real SMS gateway: its "08:00" may be
// the middle of the night for the phones, and the rehearsal's texts would
// reach real people (docs/journeys.md, "Rehearsing with a simulated
// clock").
func (c *Config) parseClock(now time.Time) error {
	clk, err := clock.Parse(c.Clock, now)
	if err != nil {
		return fmt.Errorf("--clock: %w", err)
	}
	if clk != nil && c.SMS != "sim" && c.SMS != "none" {
		return fmt.Errorf("--clock %s needs --sms sim or none, not %s: a rehearsal's texts must not reach real phones at simulated times",
			c.Clock, strings.SplitN(redactURL(c.SMS), "://", 2)[0])
	}
	c.simClock = clk
	return nil
}

// clockName is the clock for the start-up log: "real", or "simulated"
// and its time.
func (c *Config) clockName() string {
	if c.simClock == nil {
		return "real"
	}
	return "simulated:" + c.simClock.Now().UTC().Format(time.RFC3339)
}

// catchUpRounds bounds the journeys/sender rounds of one catch-up: each
// text sent is an event the journeys read, which may queue another text;
// a journey that texts on every text sent must not hold the advance for
// ever.
const catchUpRounds = 20

// catchUp is what POST /v1/clock/advance runs after moving the simulated
// clock, so that its answer comes after the work that fell due: the event
// stream's day partitions for the new day, the journeys' pass (the stream,
// abandoned carts, segments, due timers), the SMS sender's held messages
// whose quiet hours ended (until the queue has nothing due), again while
// texts were sent; the loops that poll on their own (webhook deliveries,
// durable jobs) are woken. The journeys and the sender serialise their
// passes, so these do not race the background loops' own.
func catchUp(events *event.Service, journeys *journey.Service, sender *sms.Sender, wake ...func()) func(context.Context) error {
	return func(ctx context.Context) error {
		if _, err := events.Maintain(ctx); err != nil {
			return fmt.Errorf("clock: events maintenance: %w", err)
		}
		for range catchUpRounds {
			if err := journeys.Poll(ctx); err != nil {
				return fmt.Errorf("clock: journeys: %w", err)
			}
			if sender == nil {
				break // no gateway: messages wait in the queue
			}
			sent := 0
			for {
				n, err := sender.Once(ctx)
				if err != nil {
					return fmt.Errorf("clock: sms sender: %w", err)
				}
				if n == 0 {
					break
				}
				sent += n
			}
			if sent == 0 {
				break
			}
		}
		for _, w := range wake {
			w()
		}
		return nil
	}
}
