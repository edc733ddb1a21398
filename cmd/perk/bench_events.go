package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/perk-platform/perk/internal/loadgen"
	"github.com/perk-platform/perk/internal/store"
)

// benchEvents loads POST /v1/events with generated shopper events. With
// --server-pid (and --db for PostgreSQL) it also reads the server's CPU, and
// its database backends', before and after, since on a shared machine CPU
// per event says more than events per second.
func benchEvents(ctx context.Context, args []string) error {
	var opt loadgen.Options
	var serverPID int
	var dbURL string
	fs := flag.NewFlagSet("perk bench events", flag.ContinueOnError)
	strFlag(fs, &opt.BaseURL, "url", "PERK_BENCH_URL", "http://127.0.0.1:8080", "server to load")
	strFlag(fs, &opt.APIKey, "key", "PERK_BENCH_KEY", "", "a key with events:write (a public ingest key, or a pos, manager or admin key)")
	fs.IntVar(&opt.Concurrency, "c", 4, "concurrent workers")
	fs.DurationVar(&opt.Duration, "d", 10*time.Second, "run time")
	fs.IntVar(&opt.MaxRequests, "n", 0, "stop after this many batches (0: only -d)")
	fs.IntVar(&opt.Events.Batch, "batch", 1000, "events a request (1-1000)")
	fs.IntVar(&opt.Events.People, "people", 100_000, "anonymous shoppers the events are spread over")
	fs.Int64Var(&opt.Events.Seed, "seed", time.Now().UnixNano(), "the same seed draws the same shoppers and products")
	fs.IntVar(&serverPID, "server-pid", 0, "the perk serve process, to report its CPU per event (same machine)")
	fs.StringVar(&dbURL, "db", "", "the server's PostgreSQL database, to add its backends' CPU per event")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if opt.Concurrency < 1 || opt.Events.Batch < 1 || opt.Events.Batch > 1000 {
		fmt.Fprintln(os.Stderr, "perk bench events: -c must be at least 1 and --batch 1 to 1000")
		return errUsage
	}
	opt.Scenario = loadgen.ScenarioEvents
	var db *store.DB
	if dbURL != "" {
		var err error
		if db, err = store.Open(ctx, dbURL); err != nil {
			return err
		}
		defer db.Close()
	}
	server := func() time.Duration {
		if serverPID == 0 {
			return 0
		}
		d, _ := pidCPU(serverPID)
		return d
	}
	backendsNow := func() backends {
		if db == nil {
			return nil
		}
		return backendCPU(ctx, db)
	}
	server0, backends0 := server(), backendsNow()
	res, err := loadgen.Run(ctx, opt)
	if err != nil {
		return err
	}
	ok := res.Status[200]
	events := ok * opt.Events.Batch
	out := struct {
		loadgen.Report
		Batch           int     `json:"batch"`
		Events          int     `json:"events"`
		EventsPerSecond float64 `json:"events_per_s"`
		ServerCPUus     float64 `json:"server_cpu_us_per_event,omitempty"`
		BackendCPUus    float64 `json:"backend_cpu_us_per_event,omitempty"`
		ClientCPUus     float64 `json:"client_cpu_us_per_event"`
		Concurrency     int     `json:"concurrency"`
		URL             string  `json:"url"`
	}{Report: res.Report(), Batch: opt.Events.Batch, Events: events, Concurrency: opt.Concurrency, URL: opt.BaseURL}
	if events > 0 {
		out.EventsPerSecond = float64(events) / res.Elapsed.Seconds()
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(events) }
		out.ServerCPUus, out.BackendCPUus, out.ClientCPUus = per(server()-server0), per(backendsNow().since(backends0)), per(rusageCPU())
	}
	if *asJSON {
		return printResult(res, true, out)
	}
	fmt.Println(res.Text())
	fmt.Printf("events: %d in %.1fs, %.0f events/s; CPU per event: server %.1f µs, database backends %.1f µs, this client %.1f µs\n",
		events, res.Elapsed.Seconds(), out.EventsPerSecond, out.ServerCPUus, out.BackendCPUus, out.ClientCPUus)
	return nil
}
