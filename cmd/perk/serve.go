package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/funnel"
	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/variance"
	"github.com/perk-platform/perk/internal/web"
	"github.com/perk-platform/perk/internal/webhook"
)

// shutdownGrace is how long perk serve lets requests in flight finish after
// SIGTERM; a supervisor's stop timeout must be longer (deploy/perk.service).
const shutdownGrace = 20 * time.Second

// journeyTick is how often perk serve reads the event stream for journeys
// and runs their due steps: a timer fires within a tick of its time.
const journeyTick = time.Second

func serveFlags(fs *flag.FlagSet, c *Config) {
	commonFlags(fs, c)
	publicURLFlags(fs, c)
	profileServeFlags(fs, c)
	boolFlag(fs, &c.Demo, "demo", "PERK_DEMO", false, "seed a demo programme (stores, members, campaigns and four weeks of baskets and messages) if the database is empty")
	boolFlag(fs, &c.DoubleOptIn, "double-opt-in", "PERK_DOUBLE_OPT_IN", false, "web sign-ups confirm by SMS link or YES reply")
	strFlag(fs, &c.Barcode, "barcode", "PERK_BARCODE", "code128", "barcode symbology: code128 or ean8")
	programmeFlag(fs, c)
	localeFlag(fs, c)
	strFlag(fs, &c.ConsentWording, "consent-wording", "PERK_CONSENT_WORDING",
		"Yes, send me my member card and offers by SMS (up to 3 a week). Reply STOP to opt out.", "consent text on the sign-up form")
	strFlag(fs, &c.ConsentVersion, "consent-version", "PERK_CONSENT_VERSION", "2026-11", "version of the consent wording, recorded with each opt-in")
	intFlag(fs, &c.JoinPerMinute, "join-rate", "PERK_JOIN_RATE", 5, "web sign-ups allowed per client address per minute")
	intFlag(fs, &c.IngestRate, "ingest-rate", "PERK_INGEST_RATE", web.DefaultIngestPerMinute, "event batches a client address may send per minute with a public ingest key")
	durationFlag(fs, &c.SessionGap, "session-gap", "PERK_SESSION_GAP", event.DefaultSessionGap, "inactivity that ends a shopper's session")
	durationFlag(fs, &c.AbandonAfter, "cart-abandon-after", "PERK_CART_ABANDON_AFTER", journey.DefaultAbandonAfter, "time after a cart_updated with no purchase by the same person that raises cart_abandoned")
	daysFlag(fs, &c.CRMFeedKeep, "crm-feed-retention", "PERK_CRM_FEED_RETENTION", 90*24*time.Hour, "how long the CRM feed keeps a change (90d); an export from a cursor older than that is refused as expired; 0 keeps them for ever")
	durationFlag(fs, &c.JourneyLease, "journey-lease", "PERK_JOURNEY_LEASE", 30*time.Second, "how long a journey runner owns the members it claimed: after a crash, their steps wait this long for another runner")
	daysFlag(fs, &c.EventsRetention, "events-retention", "PERK_EVENTS_RETENTION", 400*24*time.Hour, "how long events are kept, by whole UTC days (400d); older ones are dropped and refused; 0 keeps them for ever")
	intFlag(fs, &c.LookupRate, "till-lookup-rate", "PERK_TILL_LOOKUP_RATE", web.DefaultLookupRate, "member look-ups a second per pos key, four times that per store; a miss costs ten (0: no limit, for load tests)")
	intFlag(fs, &c.LookupBurst, "till-lookup-burst", "PERK_TILL_LOOKUP_BURST", web.DefaultLookupBurst, "member look-ups a pos key may make at once")
	strFlag(fs, &c.Clock, "clock", "PERK_CLOCK", "real", "real, or simulated[:2026-12-07T19:00:00Z] to rehearse journeys and campaigns on a clock that stands still until an admin advances it (POST /v1/clock/advance); only with --sms sim or none")
	strFlag(fs, &c.MetricsAddr, "metrics-addr", "PERK_METRICS_ADDR", "", "serve /metrics without a key on this address only (default: on --addr, for admin and reporting keys)")
	smsFlags(fs, c)
	loyaltyFlags(fs, c)
	webhookFlags(fs, c)
	batchFlags(fs, c)
	jobFlags(fs, c)
}

// lookupLimit is the till look-up limit; a rate of 0 switches it off.
func (c *Config) lookupLimit() web.LookupLimit {
	if c.LookupRate <= 0 {
		return web.LookupLimit{Rate: -1}
	}
	return web.LookupLimit{Rate: float64(c.LookupRate), Burst: float64(c.LookupBurst)}
}

// publicURLFlags are the settings card and confirmation links are built
// from: --public-url, or else http:// and the listen address. Commands that
// queue or print such links take both, so with the server's environment or
// --config file they write the links the server would (setup fills in the
// default).
func publicURLFlags(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.Addr, "addr", "PERK_ADDR", "127.0.0.1:8080", "HTTP listen address (port 0 picks a free port)")
	strFlag(fs, &c.PublicURL, "public-url", "PERK_PUBLIC_URL", "", "base URL shoppers reach, used in SMS links (default http://ADDR)")
}

func programmeFlag(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.Programme, "programme", "PERK_PROGRAMME", "Perk Rewards", "programme name shown to shoppers")
}

func cmdServe(ctx context.Context, args []string) error {
	var c Config
	fs := flag.NewFlagSet("perk serve", flag.ContinueOnError)
	serveFlags(fs, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.SMS == "" {
		// The simulator answers anyone who can reach /sim: it is for demos,
		// and never the silent default of a real deployment.
		c.SMS = "none"
		if c.Demo {
			c.SMS = "sim"
		}
	}
	if err := c.parseClock(time.Now()); err != nil {
		return err
	}
	sym, err := barcode.ParseSymbology(c.Barcode)
	if err != nil {
		return fmt.Errorf("--barcode: %w", err)
	}
	if _, err := c.Loyalty.currency(); err != nil {
		return err
	}
	if c.Locale, err = web.ParseLocale(c.Locale); err != nil {
		return fmt.Errorf("--locale: %w", err)
	}
	// Listen before anything else so that the real address (port 0) is known
	// for the default public URL.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	c.Addr = ln.Addr().String()
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	b := thisBuild()
	log.Info("perk starting", append(c.logAttrs(db), "version", b.Version, "commit", b.Revision)...)
	reg := newRegistry(db)
	// The event stream's day partitions (PostgreSQL) are made before
	// anything can write an event: a partition created while a row is being
	// routed to the default one fails that row's transaction (SQLSTATE
	// 23514), which was an enrolment's answer 500 on the first request.
	events := event.NewService(db, event.Options{SessionGap: c.SessionGap, Retention: c.EventsRetention, Log: log, Now: c.now()})
	if _, err := events.Maintain(ctx); err != nil {
		return fmt.Errorf("events maintenance: %w", err)
	}

	if err := c.loadTexts(log); err != nil {
		return err
	}
	// One webhook service for the whole process: every domain package
	// records into it, the API manages it and the dispatcher delivers from
	// it, so its endpoint cache is one, and a till's ledger and checkout
	// events go to the outbox together (change.Batch matches the recorder).
	hooks := c.webhooks(db, log)
	reg.MustRegister(hooks.DepthCollector(log))
	members := c.memberService(db, log)
	// Imports, batch files and the expiry sweep run as durable jobs
	// (internal/job): registered below, started once all are.
	queue, err := c.jobQueue(db, log)
	if err != nil {
		return err
	}
	jobs := member.NewJobs(members)
	jobs.UseQueue(queue)
	if err := jobs.FailInterrupted(ctx); err != nil {
		return err
	}
	keys := auth.NewService(db, nil)
	if c.Demo {
		if err := c.seedDemo(ctx, db, keys, log); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	shortLinks := links.NewService(db, c.PublicURL, c.now())
	loy, err := c.meteredLoyalty(db, members, shortLinks, log, reg)
	if err != nil {
		return err
	}
	queue.Handle(ledger.SweepKind, loy.ledger.Sweep(time.Hour, c.now()))
	if _, err := job.EnqueueOnce(ctx, db, job.Spec{ID: ledger.SweepJobID, Kind: ledger.SweepKind}, c.now()()); err != nil {
		return err
	}
	// The catalogue follows other instances' changes and writes the
	// unknown SKUs the tills sold.
	catalogueDone := make(chan struct{})
	go func() { defer close(catalogueDone); loy.catalogue.Run(ctx, 5*time.Second) }()
	defer func() { <-catalogueDone }()
	smsStack, err := c.startSMS(ctx, db, members, loy.nbo, loy.referrals, loy.campaigns, log, reg)
	if err != nil {
		return err
	}
	defer smsStack.wait()
	// Webhook deliveries go out on their own dispatcher, off the till's
	// commit path; it finishes the attempts in flight before Perk exits.
	dispatcher := webhook.NewDispatcher(hooks)
	dispatcher.Metrics = webhook.NewMetrics(reg)
	dispatchDone := make(chan struct{})
	go func() { defer close(dispatchDone); dispatcher.Run(ctx) }()
	defer func() { <-dispatchDone }()
	// Journeys read the event stream and run their members' due steps
	// every second; their state is in the database, so a restart resumes.
	journeys, err := c.journeys(db, log, loy.campaigns, shortLinks)
	if err != nil {
		return err
	}
	// The built-in journeys (basket abandonment) are installed live on
	// the first start; an operator who stops one keeps it stopped.
	if names, err := journeys.InstallBuiltin(ctx); err != nil {
		return err
	} else if len(names) > 0 {
		log.Info("built-in journeys installed", "journeys", names)
	}
	journeysDone := make(chan struct{})
	go func() { defer close(journeysDone); journeys.Run(ctx, journeyTick) }()
	defer func() { <-journeysDone }()
	batchJobs, err := c.batchJobs(db, loy, log)
	if err != nil {
		return err
	}
	batchJobs.UseQueue(queue)
	if err := batchJobs.FailInterrupted(ctx); err != nil {
		return err
	}
	defer batchJobs.Wait()
	if n, err := queue.Recover(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("resuming interrupted jobs", "jobs", n)
	}
	queueDone := make(chan struct{})
	go func() { defer close(queueDone); queue.Run(ctx) }()
	defer func() { <-queueDone }()
	waitFolder, err := c.startBatchFolder(ctx, batchJobs, log)
	if err != nil {
		return err
	}
	defer waitFolder()
	maintainDone := make(chan struct{})
	go func() {
		defer close(maintainDone)
		maintainEvents(ctx, events, time.Hour, c.now(), func(now time.Time) { c.pruneCRMFeed(ctx, db, now, log) }, log)
	}()
	defer func() { <-maintainDone }()
	// The funnel rollup follows the event stream, so a report has little
	// left to fold (it folds the rest itself).
	funnels := funnel.NewService(db, c.now())
	rollupDone := make(chan struct{})
	go func() { defer close(rollupDone); funnels.KeepRollup(ctx, funnelRollupEvery, log) }()
	defer func() { <-rollupDone }()
	// The variance monitor keeps live campaigns' hourly actuals and raises
	// their alerts (docs/variance.md); it rebuilds the norms on the
	// nightly hour of the profiles' refresh.
	vari := variance.NewService(db, loy.campaigns, variance.Options{Log: log, Changes: c.changes(db, log), Journeys: journeys, Now: c.now()})
	varianceDone := make(chan struct{})
	go func() { defer close(varianceDone); vari.Run(ctx, varianceEvery, c.Profiles.RefreshHour) }()
	defer func() { <-varianceDone }()
	// Profiles: the queue the tills fill is drained every few seconds, and
	// everything is recomputed nightly.
	profiles := c.profiles(db, log)
	profilesDone := make(chan struct{})
	go func() { defer close(profilesDone); profiles.Run(ctx, profileDrainEvery, c.Profiles.RefreshHour) }()
	defer func() { <-profilesDone }()
	// The next best offer ranks the wallet's offers with the pool; its
	// association rules are mined again nightly.
	offersNBO := loy.nbo
	nboDone := make(chan struct{})
	go func() { defer close(nboDone); offersNBO.Run(ctx, 24*time.Hour) }()
	defer func() { <-nboDone }()
	srv := web.New(ctx, db, members, jobs, keys, web.Options{
		Programme: c.Programme, Locale: c.Locale, ConsentWording: c.ConsentWording, DoubleOptIn: c.DoubleOptIn, Symbology: sym,
		UploadDir: filepath.Join(c.DataDir, "uploads"), JoinPerMinute: c.JoinPerMinute, Log: log,
		Sim: web.SimOptions{Gateway: smsStack.sim, Router: smsStack.router}, Links: shortLinks,
		GatewayCallbacks: smsStack.handler, Campaigns: loy.campaigns, Checkout: loy.checkout, Ledger: loy.ledger,
		Reports: loy.reports, Live: loy.live, MetricsElsewhere: c.MetricsAddr != "", LookupLimit: c.lookupLimit(),
		Registry: reg, Gateway: smsStack.gateway, Currency: loy.currency, Batch: batchJobs, Catalogue: loy.catalogue, Referrals: loy.referrals,
		Webhooks: hooks, WakeWebhooks: dispatcher.Wake,
		Events: events, IngestPerMinute: c.IngestRate,
		Funnels: funnels, Journeys: journeys, CRMFeed: crm.NewExporter(db, c.now()), Variance: vari,
		Profiles: profiles, NBO: offersNBO,
		Now: c.now(), Clock: c.simClock, CatchUp: catchUp(events, journeys, smsStack.sender, dispatcher.Wake, queue.Wake),
	})
	if c.MetricsAddr != "" {
		mln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		ms := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(mln)
		defer ms.Close()
		log.Info("metrics listening", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // uploads of large member files
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("perk listening", "url", "http://"+c.Addr, "public_url", c.PublicURL)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("perk shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = hs.Shutdown(shutCtx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// funnelRollupEvery is how often the server folds new events into the
// funnel rollup.
const funnelRollupEvery = 10 * time.Second

// varianceEvery is how often the variance monitor passes over the live
// campaigns: each pass reads only the rows of the last few hours.
const varianceEvery = time.Minute

func cmdMigrate(ctx context.Context, args []string) error {
	var c Config
	fs := flag.NewFlagSet("perk migrate", flag.ContinueOnError)
	commonFlags(fs, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("database is up to date", "db", db.Redacted())
	return nil
}

// pruneCRMFeed drops the CRM feed's changes older than --crm-feed-retention.
func (c *Config) pruneCRMFeed(ctx context.Context, db *store.DB, now time.Time, log *slog.Logger) {
	if c.CRMFeedKeep <= 0 {
		return
	}
	n, err := crm.Prune(ctx, db, now, c.CRMFeedKeep)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("crm feed prune", "err", err)
	case n > 0:
		log.Info("crm feed pruned", "deleted", n, "kept", c.CRMFeedKeep.String())
	}
}

// maintainEvents keeps the event stream's storage (day partitions ahead,
// retention) every so often, and prunes the other logs kept for a time
// (also); serve runs the first events maintenance before it starts.
func maintainEvents(ctx context.Context, s *event.Service, every time.Duration, now func() time.Time, also func(time.Time), log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		also(now())
		m, err := s.Maintain(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("events maintenance", "err", err)
		case len(m.Created)+len(m.Dropped) > 0 || m.Deleted > 0:
			log.Info("events maintenance", "created", m.Created, "dropped", m.Dropped, "deleted", m.Deleted)
		}
	}
}
