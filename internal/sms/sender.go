package sms

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/phone"
)

// Verdict is the contact policy's answer for one marketing message.
type Verdict struct {
	Hold   bool      // do not send; status held with Reason
	Drop   bool      // never send; status cancelled with Reason (it could no longer arrive in time)
	Until  time.Time // if after now, defer until then; recorded with Reason
	Reason string    // ok, opted_out, quiet_hours, capped, priority, campaign_paused, campaign_ended, too_late
}

// Unrecorded is a marketing message the sender has let through but not yet
// recorded as sent.
type Unrecorded struct {
	ID string
	At time.Time
}

// Policy decides whether a marketing message may go now.
// Transactional messages never reach it. b is the batch being settled: it
// lists the marketing messages the sender has let through but not yet
// recorded (they are recorded a batch at a time), so the frequency cap
// counts them, and it keeps what the policy read once for the whole batch.
type Policy interface {
	Check(ctx context.Context, m Message, now time.Time, b *Batch) (Verdict, error)
}

// Batch is what the sender knows of the batch of claimed messages it is
// settling. A campaign's announcement is claimed a few hundred messages at a
// time, all for one campaign: the policy reads that campaign's state once per
// batch instead of once per message (a pause made mid-batch is seen by the
// next batch; the messages it holds in the queue are not in this one).
type Batch struct {
	unrecorded map[string][]Unrecorded  // member -> marketing let through in this batch
	states     map[string]CampaignState // campaign id -> state, read in this batch
	unknown    map[string]bool          // campaign ids Campaigns did not know
}

// NewBatch returns an empty batch, for a sender's claim or a single check.
func NewBatch() *Batch {
	return &Batch{unrecorded: map[string][]Unrecorded{}, states: map[string]CampaignState{}, unknown: map[string]bool{}}
}

// Unrecorded returns the marketing messages to member let through in this
// batch and not yet recorded as sent.
func (b *Batch) Unrecorded(member string) []Unrecorded { return b.unrecorded[member] }

// letThrough notes that m was admitted at at.
func (b *Batch) letThrough(m Message, at time.Time) {
	if m.Kind != Transactional && m.MemberID != "" {
		b.unrecorded[m.MemberID] = append(b.unrecorded[m.MemberID], Unrecorded{ID: m.ID, At: at})
	}
}

// ReceiptSource is a gateway that reports delivery receipts.
type ReceiptSource interface {
	Receipts() <-chan Receipt
}

// Sender moves queued messages to a gateway. Make it with NewSender.
type Sender struct {
	Queue    *Queue
	Gateway  Gateway
	Policy   Policy // may be nil only if no marketing messages are queued
	Log      *slog.Logger
	Now      func() time.Time
	Poll     time.Duration // idle wait between claims
	Batch    int           // messages claimed at once
	Parallel int           // messages handed to the gateway at once (fill an SMPP window)
	Metrics  *Metrics      // sends, failures and their latency; nil records nothing

	wake chan struct{}
	// onceMu serialises Once: the contact policy counts a member's texts
	// within one batch, so two batches at once (Run's and a simulated
	// clock's catch-up) could each let a capped member through.
	onceMu sync.Mutex
}

// NewSender returns a sender with the defaults (100 ms poll, 1,000 a batch,
// 64 in flight).
func NewSender(q *Queue, gw Gateway, p Policy, log *slog.Logger, now func() time.Time) *Sender {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Sender{Queue: q, Gateway: gw, Policy: p, Log: log, Now: now, Poll: 100 * time.Millisecond, Batch: 1000,
		Parallel: 64, wake: make(chan struct{}, 1)}
}

// Wake makes an idle sender look for work at once (after an enqueue).
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends. It also applies the gateway's receipts.
func (s *Sender) Run(ctx context.Context) error {
	s.Metrics.gateway(s.Gateway.Name())
	done := make(chan struct{})
	if rs, ok := s.Gateway.(ReceiptSource); ok {
		go func() {
			defer close(done)
			s.receipts(ctx, rs.Receipts())
		}()
	} else {
		close(done)
	}
	defer func() { <-done }()
	for {
		n, err := s.Once(ctx)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("sms sender", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-time.After(s.Poll):
		}
	}
}

// receipts applies the gateway's receipts, as many as are waiting in one
// transaction: a busy SMSC sends thousands a second.
func (s *Sender) receipts(ctx context.Context, rs <-chan Receipt) {
	batch := make([]Receipt, 0, 500)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-rs:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case r := <-rs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if err := s.Queue.DeliveredBatch(context.WithoutCancel(ctx), batch); err != nil {
			s.Log.Error("sms receipts", "count", len(batch), "err", err)
		}
	}
}

// Once claims one batch and settles every message in it; it returns how
// many it claimed. The contact policy is applied in order; the messages it
// lets through are handed to the gateway concurrently, Parallel at a time,
// so that an SMPP window is actually filled.
func (s *Sender) Once(ctx context.Context) (int, error) {
	s.onceMu.Lock()
	defer s.onceMu.Unlock()
	msgs, err := s.Queue.Claim(ctx, max(s.Batch, 1))
	if err != nil {
		return 0, err
	}
	// A claimed message is settled even if ctx ends mid-batch, so it does
	// not wait for its lease to run out.
	ctx = context.WithoutCancel(ctx)
	var errs []error
	approved := make([]Message, 0, len(msgs))
	batch := NewBatch()
	for _, m := range msgs {
		ok, err := s.admit(ctx, m, batch)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			approved = append(approved, m)
			batch.letThrough(m, s.Now().UTC())
		}
	}
	// Hand the admitted messages to the gateway keeping the window full,
	// and record acceptances as they come, a few at a time. A slot is freed
	// only once its message is settled (recorded, retried or failed), so
	// messages in flight plus those accepted but not yet recorded never
	// exceed Parallel: a crash repeats at most one window.
	type outcome struct {
		r   *SentResult
		err error
	}
	outcomes := make(chan outcome, len(approved))
	slots := make(chan struct{}, max(s.Parallel, 1))
	go func() {
		for _, m := range approved {
			slots <- struct{}{}
			go func() {
				r, err := s.send(ctx, m)
				outcomes <- outcome{r, err}
			}()
		}
	}()
	// Acceptances are recorded as they come, without waiting for the last
	// record: the queue commits all the records waiting at once (and the
	// receipts with them), while the window stays full.
	var mu sync.Mutex // guards errs from here on
	var records sync.WaitGroup
	pending := make([]SentResult, 0, max(s.Parallel, 1))
	flush := func() {
		if len(pending) == 0 {
			return
		}
		batch := pending
		pending = make([]SentResult, 0, cap(pending))
		records.Go(func() {
			err := s.Queue.SentBatch(ctx, batch)
			mu.Lock()
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
			for range batch {
				<-slots
			}
		})
	}
	for range approved {
		o := <-outcomes
		mu.Lock()
		if o.err != nil {
			errs = append(errs, o.err)
		}
		mu.Unlock()
		if o.r != nil {
			pending = append(pending, *o.r)
		} else {
			<-slots // settled by send already
		}
		// Record when a window's worth is waiting, or when nothing more has
		// arrived yet: never sit on accepted messages.
		if len(pending) >= cap(pending) || len(outcomes) == 0 {
			flush()
		}
	}
	flush()
	records.Wait()
	return len(msgs), errors.Join(errs...)
}

// admit applies the contact policy to a marketing message, settling it if it
// is held or deferred; transactional messages are always admitted.
func (s *Sender) admit(ctx context.Context, m Message, batch *Batch) (bool, error) {
	if m.Kind == Transactional {
		return true, nil
	}
	now := s.Now().UTC()
	if s.Policy == nil {
		return false, s.Queue.Hold(ctx, m, "no_policy")
	}
	v, err := s.Policy.Check(ctx, m, now, batch)
	if err != nil {
		_, rerr := s.Queue.Retry(ctx, m, err)
		return false, errors.Join(err, rerr)
	}
	switch {
	case v.Drop:
		return false, s.Queue.Cancel(ctx, m, v.Reason)
	case v.Hold:
		return false, s.Queue.Hold(ctx, m, v.Reason)
	case v.Until.After(now):
		return false, s.Queue.Defer(ctx, m, v.Reason, v.Until)
	}
	return true, nil
}

// send hands an admitted message to the gateway. A failure is settled here;
// an accepted message is returned for the batch record.
func (s *Sender) send(ctx context.Context, m Message) (*SentResult, error) {
	start := time.Now() // latency is measured on the real clock, not s.Now
	sub, err := s.Gateway.Send(ctx, m)
	took := time.Since(start)
	if err == nil {
		// Before the receipt can be handled: it waits for this record in
		// memory rather than in sms_early_receipts.
		s.Queue.Accepting(sub.GatewayID)
		s.Metrics.send(s.Gateway.Name(), took, sub.Segments, "")
		return &SentResult{Message: m, GatewayID: sub.GatewayID, Segments: sub.Segments}, nil
	}
	log := s.Log.With("message", m.ID, "to", phone.Mask(m.To), "gateway", s.Gateway.Name(), "err", err)
	if errors.Is(err, ErrPermanent) {
		s.Metrics.send(s.Gateway.Name(), took, 0, "permanent")
		log.Warn("sms failed permanently")
		return nil, s.Queue.Fail(ctx, m, err)
	}
	s.Metrics.send(s.Gateway.Name(), took, 0, "temporary")
	again, qerr := s.Queue.Retry(ctx, m, err)
	log.Warn("sms send failed", "retry", again)
	return nil, qerr
}
