package ledger

import (
	"context"
	"time"

	"github.com/perk-platform/perk/internal/job"
)

// Expiry sweep, a recurring job: one row (SweepJobID) however many
// instances run, claimed by one of them at a time.
const (
	SweepKind  = "points.expire"
	SweepJobID = "points-expiry-sweep"
)

// SweepResult is what a sweep did.
type SweepResult struct {
	Lots int `json:"lots"`
}

// Sweep is the expiry sweep's job handler: it writes the expiry entries of
// the lots past their date at the queue's time, so balances and reports
// agree without waiting for each member's next purchase, then makes the
// job due again every interval. Each member's expiry is its own
// transaction, and a lot once expired is not due any more, so a sweep
// interrupted by a restart needs no cursor: the next run finds what is
// left.
func (l *Ledger) Sweep(every time.Duration, now func() time.Time) job.Handler {
	return func(ctx context.Context, r *job.Run) error {
		at := now().UTC()
		total := 0
		for {
			n, err := l.ExpireDue(ctx, at, 1000)
			total += n
			if err != nil {
				return err
			}
			if n < 1000 {
				break
			}
		}
		r.SetResult(SweepResult{Lots: total})
		r.Again(at.Add(every))
		return nil
	}
}
