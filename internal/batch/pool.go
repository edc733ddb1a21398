package batch

import (
	"context"
	"hash/fnv"
	"time"
)

// done is one record's outcome from a worker.
type done struct {
	seq int
	rec *Record
	out *outcome
	err error
	// noted: the member's offer change is already noted (in the chunk).
	noted bool
}

// pool commits records on workers, each with its own clock (the time of the
// record it is committing), and hands the outcomes back in file order.
type pool struct {
	ctx      context.Context
	p        *Processor
	mode     Mode
	in       []chan done
	out      chan done
	inflight int
	next     int // the sequence number of the next record
	handled  int // the sequence number handle waits for
	pending  map[int]done
}

// window bounds the records in flight, and so the memory the reordering
// holds, whatever the file's size.
const window = 256

func (p *Processor) newPool(ctx context.Context, mode Mode) *pool {
	n := max(p.opt.Workers, 1)
	pl := &pool{ctx: ctx, p: p, mode: mode, out: make(chan done, window), pending: map[int]done{}}
	for range n {
		ch := make(chan done, window)
		pl.in = append(pl.in, ch)
		go pl.work(ch)
	}
	return pl
}

func (pl *pool) work(in chan done) {
	var at time.Time
	co := pl.p.checkout.WithClock(func() time.Time { return at })
	for d := range in {
		at = d.rec.At
		d.out, d.err = pl.p.apply(pl.ctx, co, d.rec, pl.mode)
		pl.out <- d
	}
}

// submit hands rec to its worker: a member's sales always to the same one,
// an anonymous sale to its transaction's; a return or void alone, after
// everything before it and before anything after it.
func (pl *pool) submit(rec *Record, handle func(done) error) error {
	alone := rec.Kind != Sale
	if alone {
		if err := pl.drain(0, handle); err != nil {
			return err
		}
	}
	if err := pl.drain(window-1, handle); err != nil {
		return err
	}
	key := ""
	if !alone {
		if key = rec.Sale.MemberKey(); key == "" {
			key = rec.Sale.Store + "/" + rec.Sale.TransactionID
		}
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	pl.in[int(h.Sum32())%len(pl.in)] <- done{seq: pl.next, rec: rec}
	pl.next++
	pl.inflight++
	if alone {
		return pl.drain(0, handle)
	}
	return nil
}

// drain handles outcomes until at most left records are in flight.
func (pl *pool) drain(left int, handle func(done) error) error {
	for pl.inflight > left {
		d := <-pl.out
		pl.inflight--
		pl.pending[d.seq] = d
		for {
			d, ok := pl.pending[pl.handled]
			if !ok {
				break
			}
			delete(pl.pending, pl.handled)
			pl.handled++
			if err := handle(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// stop ends the workers once their queues are empty.
func (pl *pool) stop() {
	for _, ch := range pl.in {
		close(ch)
	}
	for pl.inflight > 0 {
		<-pl.out
		pl.inflight--
	}
}
