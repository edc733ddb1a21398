package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// ScenarioEvents POSTs batches of generated shopper events to /v1/events and
// expects 200; see EventsOptions.
const ScenarioEvents Scenario = "events"

// EventsOptions shape ScenarioEvents' batches: Batch events a request, each
// a page_viewed (60%), product_viewed (25%) or cart_updated (15%) on the web
// channel by one of People anonymous shoppers, timed in the minute before it
// is sent. Event ids are "bench-<run>-<worker>-<request>-<i>", new on every
// run, so no event is a harmless resend the server skips.
type EventsOptions struct {
	Batch  int   // events a request, default 1000 (the API's limit)
	People int   // anonymous ids drawn from, default 100,000
	Seed   int64 // the same seed draws the same shoppers and products
	// RunID tells this run's event ids from an earlier run's; default: the
	// time the run starts, in base 36.
	RunID string
	now   func() time.Time // time.Now; tests fix it
}

// Defaults and limits of ScenarioEvents.
const (
	defaultEventBatch = 1000
	maxEventBatch     = 1000 // event.MaxBatch
	defaultPeople     = 100_000
)

func (o *EventsOptions) fill() error {
	if o.Batch < 0 || o.Batch > maxEventBatch || o.People < 0 {
		return fmt.Errorf("loadgen: Batch must be 1 to %d and People not negative", maxEventBatch)
	}
	if o.Batch == 0 {
		o.Batch = defaultEventBatch
	}
	if o.People == 0 {
		o.People = defaultPeople
	}
	if o.RunID == "" {
		o.RunID = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if o.now == nil {
		o.now = time.Now
	}
	return nil
}

// eventsWorker is one worker's source of event batches.
type eventsWorker struct {
	r      *runner
	id     string // "bench-<run>-<worker>-"
	rnd    *rand.Rand
	n      int
	buf    bytes.Buffer
	stamps [60][]byte // the last minute's times, second by second, as JSON strings
	minute time.Time
}

func (r *runner) eventsWorker(w int) *eventsWorker {
	o := r.opts.Events
	return &eventsWorker{r: r, id: "bench-" + o.RunID + "-" + strconv.Itoa(w) + "-",
		rnd: rand.New(rand.NewPCG(uint64(o.Seed), uint64(w)+1))}
}

func (e *eventsWorker) next(ctx context.Context) (*http.Request, int, error) {
	req, err := e.r.eventsRequest(ctx, e.body())
	return req, 0, err
}

// body builds the next batch. Appending by hand keeps the load generator's
// CPU small beside the server's, which shares the machine.
func (e *eventsWorker) body() []byte {
	o := e.r.opts.Events
	if now := o.now().UTC().Truncate(time.Second); !now.Equal(e.minute) {
		e.minute = now
		for s := range e.stamps {
			e.stamps[s] = strconv.AppendQuote(e.stamps[s][:0], now.Add(-time.Duration(s)*time.Second).Format(time.RFC3339))
		}
	}
	b := &e.buf
	b.Reset()
	b.WriteString(`{"events":[`)
	var num []byte
	for i := range o.Batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"event_id":"`)
		b.WriteString(e.id)
		b.Write(strconv.AppendInt(num[:0], int64(e.n), 10))
		b.WriteByte('-')
		b.Write(strconv.AppendInt(num[:0], int64(i), 10))
		b.WriteString(`","time":`)
		b.Write(e.stamps[e.rnd.IntN(len(e.stamps))])
		b.WriteString(`,"channel":"web","anonymous_id":"bench-`)
		b.Write(strconv.AppendInt(num[:0], int64(e.rnd.IntN(o.People)), 10))
		sku := strconv.AppendInt(num[:0], int64(e.rnd.IntN(500)), 10)
		switch k := e.rnd.IntN(100); {
		case k < 60:
			b.WriteString(`","type":"page_viewed","properties":{"path":"/p/`)
			b.Write(sku)
			b.WriteString(`"}}`)
		case k < 85:
			b.WriteString(`","type":"product_viewed","properties":{"sku":"SKU-`)
			b.Write(sku)
			b.WriteString(`","price":`)
			b.Write(strconv.AppendInt(num[:0], int64(100+e.rnd.IntN(900)), 10))
			b.WriteString(`}}`)
		default:
			b.WriteString(`","type":"cart_updated","properties":{"items":[{"sku":"SKU-`)
			b.Write(sku)
			b.WriteString(`","quantity":`)
			b.Write(strconv.AppendInt(num[:0], int64(1+e.rnd.IntN(3)), 10))
			b.WriteString(`,"price":`)
			b.Write(strconv.AppendInt(num[:0], int64(100+e.rnd.IntN(900)), 10))
			b.WriteString(`}]}}`)
		}
	}
	b.WriteString(`]}`)
	e.n++
	return b.Bytes()
}

// eventsRequest builds POST /v1/events.
func (r *runner) eventsRequest(ctx context.Context, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	r.authorize(req)
	return req, nil
}

// probeEvents sends one batch before measuring and checks the server kept
// every event: a measured request is only counted by its status, so a batch
// the server answers 200 while rejecting its events would otherwise pass
// for ingestion.
func (r *runner) probeEvents(ctx context.Context) error {
	w := r.eventsWorker(-1)
	body, err := r.checked(ctx, func(ctx context.Context) (*http.Request, error) { return r.eventsRequest(ctx, w.body()) })
	if err != nil {
		return err
	}
	var res struct {
		Accepted int               `json:"accepted"`
		Rejected []json.RawMessage `json:"rejected"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("POST /v1/events: %w: %s", err, snippet(body))
	}
	if res.Accepted != r.opts.Events.Batch {
		return fmt.Errorf("POST /v1/events: %d of %d events accepted: %s", res.Accepted, r.opts.Events.Batch, snippet(body))
	}
	return nil
}
