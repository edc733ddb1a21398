// Package web is Perk's HTTP face: the JSON API for EPoS terminals and CRMs,
// the shopper's pages (sign-up form, card page) and the operational endpoints
// (health, readiness, metrics). Handlers are thin: decode, call the domain
// package, encode. Templates and assets are embedded; nothing loads from a CDN.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/clock"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/funnel"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/variance"
	"github.com/perk-platform/perk/internal/webhook"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the HTTP layer.
type Options struct {
	Programme      string            // shown on pages
	Locale         string            // the programme's BCP 47 locale, <html lang> of every page ("en" if empty)
	Currency       money.Currency    // how pages show money (the zero Currency: two decimals, no symbol)
	ConsentWording string            // text next to the consent checkbox on /join
	DoubleOptIn    bool              // web sign-ups confirm by SMS link or YES
	Symbology      barcode.Symbology // for barcodes
	UploadDir      string            // where uploaded import files wait for their job
	JoinPerMinute  int               // sign-ups allowed per client address per minute
	Sim            SimOptions        // the simulator page, when the simulator is the gateway
	Links          *links.Service    // tracked short links (/l/{code}); none if nil
	// GatewayCallbacks serves an SMS gateway's calls into Perk (Kannel's MO
	// and delivery reports under /kannel/); it checks its own secret.
	GatewayCallbacks http.Handler
	// Campaigns, Checkout and Ledger serve the campaign manager, the tills
	// and points; their routes are left out when Checkout is nil.
	Campaigns *campaign.Service
	Checkout  *checkout.Service
	Ledger    *ledger.Ledger
	// Reports serves campaign reports and member histories (API and
	// dashboard); Live wakes open dashboard pages when a till moves a
	// campaign (nil: pages refresh on their timer only).
	Reports *report.Service
	Live    *Live
	// Webhooks serves /v1/webhooks and the dashboard's webhooks page; nil
	// leaves them out. WakeWebhooks, if set, is called after a replay so the
	// dispatcher sends it at once.
	Webhooks     *webhook.Service
	WakeWebhooks func()
	// Events is the event stream: POST /v1/events, /perk.js, members'
	// timelines and sessions; left out when nil.
	Events *event.Service
	// Funnels serves funnel definitions and reports (API and dashboard);
	// left out when nil.
	Funnels *funnel.Service
	// Journeys serves /v1/journeys; left out when nil.
	Journeys *journey.Service
	// Variance serves the campaign variance view (API, live panel,
	// corrections, the overview's alerts); left out when nil.
	Variance *variance.Service
	// IngestPerMinute bounds the batches a client address sends with a
	// public ingest key (zero: DefaultIngestPerMinute).
	IngestPerMinute int
	// Batch is the managed service (transaction files in, offer files
	// out); nil leaves its API and page off.
	Batch *batch.Jobs
	// CRMFeed serves the CRM feed (GET /v1/crm/export/{feed}); nil leaves
	// it out. CRMFeedWait is how long a read waits for writes in flight
	// (zero: crm.DefaultWait).
	CRMFeed     *crm.Exporter
	CRMFeedWait time.Duration
	// Catalogue serves stores and products (API and dashboard); their
	// routes are left out when it is nil.
	Catalogue *catalogue.Catalogue
	// Referrals is the referral programme: its API and dashboard page, the
	// referral link and share button on the card page, and ?ref= on /join;
	// left out when nil.
	Referrals *referral.Service
	// Profiles serves members' refined profiles and their refresh; left
	// out when nil.
	Profiles *profile.Service
	// NBO is the next best offer: the pool, rules, a member's ranked offers
	// and next_best_offer campaigns (API), and the order of the card's
	// offers; left out when nil.
	NBO *nbo.Service
	// MetricsElsewhere leaves /metrics off this handler because it is served
	// on a listener of its own (MetricsHandler); otherwise /metrics needs a
	// key with the metrics:read permission (admin or reporting).
	MetricsElsewhere bool
	// Registry is where the HTTP series are registered and what /metrics
	// serves: the process's one registry, on which the domain packages
	// register theirs. Nil: a registry of the server's own, with the Go and
	// process collectors.
	Registry *prometheus.Registry
	// Gateway is the SMS gateway /readyz reports, with its bind if it keeps
	// one (SMPP); nil means none.
	Gateway sms.Gateway
	// LookupLimit bounds how fast pos keys resolve members (zero: the
	// defaults; a negative Rate: no limit).
	LookupLimit LookupLimit
	// Now is the server's clock (time.Now if nil): the rate limits, "today"
	// on the overview, a new campaign's default dates and the simulator's
	// texts go by it. Latencies (the request log, metrics) are measured on
	// the wall clock.
	Now func() time.Time
	// Clock is perk serve's simulated clock (--clock simulated), whose
	// Now is also Now: GET /v1/clock reads it, POST /v1/clock/advance moves
	// it, and the operator pages carry a banner saying the time is
	// simulated. Nil: the wall clock, which the API refuses to move.
	Clock *clock.Simulated
	// CatchUp runs the work that fell due when the simulated clock was
	// advanced, before the advance answers (perk serve: the journeys, the
	// SMS sender, the event partitions); nil does nothing.
	CatchUp func(context.Context) error
	Log     *slog.Logger
}

// Server holds the dependencies of the handlers.
type Server struct {
	db      *store.DB
	members *member.Service
	jobs    *member.Jobs
	keys    *auth.Service
	opt     Options
	log     *slog.Logger
	pages   *template.Template
	metrics *metrics
	reg     *prometheus.Registry
	joinRL  *rateLimiter
	lookups *lookupLimiter
	// ingestRL limits public ingest keys per key and client address.
	ingestRL *rateLimiter
	// varianceUI: the live panel and the overview show the variance view
	// (Options.Variance was given, as perk serve gives it).
	varianceUI bool
	// routes are the /v1 routes Handler registered last (APIRoutes).
	routes []Route
	// ctx bounds background work started by requests (upload imports).
	ctx context.Context
}

// New builds a Server. ctx is the server's lifetime: background imports stop
// when it ends.
func New(ctx context.Context, db *store.DB, members *member.Service, jobs *member.Jobs, keys *auth.Service, opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.JoinPerMinute == 0 {
		opt.JoinPerMinute = 5
	}
	if lang, err := ParseLocale(opt.Locale); err != nil {
		// Callers validate with ParseLocale at start; a page in the
		// default language beats no page.
		opt.Log.Error("web: bad locale, pages say lang="+DefaultLocale, "err", err)
		opt.Locale = DefaultLocale
	} else {
		opt.Locale = lang
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.LookupLimit == (LookupLimit{}) {
		opt.LookupLimit = LookupLimit{Rate: DefaultLookupRate, Burst: DefaultLookupBurst}
	}
	reg := opt.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{
		db: db, members: members, jobs: jobs, keys: keys, opt: opt, log: opt.Log, reg: reg, ctx: ctx,
		metrics: newMetrics(reg),
		pages:   template.Must(template.New("").Funcs(templateFuncs(opt.Currency)).Funcs(eventFuncs()).Funcs(journeyFuncs()).Funcs(clockFuncs(opt.Clock)).ParseFS(templateFS, "templates/*.html")),
		joinRL:  newRateLimiter(opt.JoinPerMinute, time.Minute, opt.Now),
	}
	if opt.IngestPerMinute == 0 {
		opt.IngestPerMinute = DefaultIngestPerMinute
	}
	s.varianceUI = s.opt.Variance != nil
	if s.opt.Variance == nil && s.opt.Campaigns != nil {
		// The variance API reads what the monitor stored; without one it
		// still serves (no norm, nothing judged until a monitor runs). The
		// pages show the view only when a service was given.
		s.opt.Variance = variance.NewService(db, s.opt.Campaigns, variance.Options{Now: s.opt.Now, Log: s.opt.Log, Journeys: s.opt.Journeys})
	}
	s.ingestRL = newRateLimiter(opt.IngestPerMinute, time.Minute, opt.Now)
	s.lookups = newLookupLimiter(opt.LookupLimit, opt.Now, opt.Log, func(scope string) { s.metrics.limited.WithLabelValues(scope).Inc() })
	return s
}

// Handler returns the routed handler with logging and metrics around it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes = nil
	api := func(pattern string, perm auth.Permission, h apiHandler) {
		s.routes = append(s.routes, Route{Pattern: pattern, Permission: perm})
		mux.Handle(pattern, s.authorize(perm, h))
	}
	s.routes = append(s.routes, Route{Pattern: openAPIRoute})
	mux.HandleFunc(openAPIRoute, serveOpenAPI)
	api("POST /v1/members", auth.MembersEnrol, s.enrolMember)
	api("GET /v1/members", auth.MembersRead, s.listMembers)
	api("GET /v1/members/lookup", auth.MembersRead, s.lookupMember)
	api("GET /v1/members/{key}", auth.MembersRead, s.getMember)
	api("PATCH /v1/members/{key}", auth.MembersWrite, s.patchMember)
	api("DELETE /v1/members/{key}", auth.MembersErase, s.eraseMember)
	api("GET /v1/members/{key}/consents", auth.MembersRead, s.memberConsents)
	api("POST /v1/members/{key}/opt-out", auth.MembersWrite, s.optOut)
	api("POST /v1/members/{key}/opt-in", auth.MembersWrite, s.optIn)
	api("POST /v1/members/{key}/card-token", auth.MembersWrite, s.reissueCard)
	api("DELETE /v1/members/{key}/card-token", auth.MembersWrite, s.revokeCard)
	api("GET /v1/members/{key}/barcode.png", auth.MembersRead, s.memberBarcode("png"))
	api("GET /v1/members/{key}/barcode.svg", auth.MembersRead, s.memberBarcode("svg"))
	api("POST /v1/imports/members", auth.MembersWrite, s.uploadImport)
	api("PUT /v1/crm/members", auth.MembersWrite, s.syncSubset)
	api("POST /v1/crm/syncs", auth.MembersWrite, s.uploadSync)
	if s.opt.CRMFeed != nil {
		api("GET /v1/crm/export/{feed}", auth.MembersRead, s.crmFeed)
	}
	api("GET /v1/imports/{id}", auth.MembersRead, s.importStatus)
	api("POST /v1/imports/{id}/cancel", auth.MembersWrite, s.importCancel)
	api("GET /v1/imports/{id}/errors.csv", auth.MembersRead, s.importErrors)
	api("GET /v1/sms/outbox", auth.MembersRead, s.listOutbox)
	api("GET /v1/sms/inbox", auth.MembersRead, s.listInbox)
	if s.opt.Checkout != nil {
		api("GET /v1/campaigns", auth.CampaignsRead, s.listCampaigns)
		api("POST /v1/campaigns", auth.CampaignsWrite, s.createCampaign)
		api("GET /v1/campaigns/{id}", auth.CampaignsRead, s.getCampaign)
		api("PUT /v1/campaigns/{id}", auth.CampaignsWrite, s.putCampaign)
		api("DELETE /v1/campaigns/{id}", auth.CampaignsWrite, s.deleteCampaign)
		api("GET /v1/campaigns/{id}/preview", auth.CampaignsRead, s.previewCampaign)
		api("POST /v1/campaigns/{id}/preview", auth.CampaignsRead, s.previewCampaign)
		api("POST /v1/campaigns/{id}/simulate", auth.CampaignsRead, s.simulateCampaign)
		api("POST /v1/campaigns/{id}/launch", auth.CampaignsWrite, s.launchCampaign)
		api("POST /v1/campaigns/{id}/pause", auth.CampaignsWrite, s.pauseCampaign)
		api("POST /v1/campaigns/{id}/resume", auth.CampaignsWrite, s.resumeCampaign)
		api("PUT /v1/campaigns/{id}/audience-list", auth.CampaignsWrite, s.putAudienceList)
		api("POST /v1/campaigns/{id}/members", auth.CampaignsWrite, s.assignMembers)
		api("POST /v1/crm/offers", auth.CampaignsWrite, s.givePersonalOffer)
		api("POST /v1/content-pools/{pool}/codes", auth.CampaignsWrite, s.addContent)
		api("POST /v1/checkout/evaluate", auth.Checkout, s.evaluate)
		api("POST /v1/checkout/commit", auth.Checkout, s.commit)
		api("POST /v1/checkout/return", auth.Checkout, s.returnItems)
		api("POST /v1/checkout/void", auth.Checkout, s.void)
		api("GET /v1/members/{key}/ledger", auth.MembersRead, s.memberLedger)
		api("POST /v1/members/{key}/points", auth.PointsAdjust, s.adjustPoints)
	}
	if s.opt.Batch != nil {
		s.registerBatch(api)
	}
	if s.opt.Reports != nil {
		newReportHandlers(s, s.opt.Reports).register(api)
		api("GET /v1/reports/overview", auth.CampaignsRead, s.overview)
	}
	if s.opt.Webhooks != nil {
		s.registerWebhooks(api)
	}
	if s.opt.Events != nil {
		s.registerEvents(mux, api)
	}
	if s.opt.Catalogue != nil {
		s.registerCatalogue(api)
	}
	if s.opt.NBO != nil {
		s.registerNBO(api)
	}
	api("GET /v1/clock", auth.ClockManage, s.getClock)
	api("POST /v1/clock/advance", auth.ClockManage, s.advanceClock)
	mux.Handle("/v1/", s.apiNotFound())

	// Shopper pages. Forms are protected from cross-site posts by
	// http.CrossOriginProtection, which needs no token in the page.
	csrf := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /join", s.joinForm)
	mux.Handle("POST /join", csrf.Handler(http.HandlerFunc(s.joinSubmit)))
	mux.HandleFunc("GET /join/confirm/{token}", s.joinConfirm)
	mux.HandleFunc("GET /c/{token}", s.cardPage)
	mux.HandleFunc("GET /c/{token}/barcode.svg", s.cardBarcode)
	if s.opt.Checkout != nil {
		// The operators' dashboard: each page for a signed-in operator whose
		// role has the permission, and every form behind
		// CrossOriginProtection too.
		page := func(pattern string, perm auth.Permission, h pageHandler) {
			mux.Handle(pattern, s.operatorPage(perm, h))
		}
		form := func(pattern string, perm auth.Permission, h pageHandler) {
			mux.Handle(pattern, csrf.Handler(s.operatorPage(perm, h)))
		}
		mux.Handle("POST /manage/login", csrf.Handler(http.HandlerFunc(s.manageLogin)))
		mux.Handle("POST /manage/logout", csrf.Handler(http.HandlerFunc(s.manageLogout)))
		page("GET /manage/{$}", auth.CampaignsRead, s.manageOverview)
		page("GET /manage/campaigns", auth.CampaignsRead, s.manageCampaigns)
		page("GET /manage/members", auth.MembersRead, s.manageMembers)
		page("GET /manage/members/{id}", auth.MembersRead, s.manageMember)
		page("GET /manage/imports", auth.MembersRead, s.manageImports)
		if s.opt.Webhooks != nil {
			page("GET /manage/webhooks", auth.WebhooksManage, s.manageWebhooks)
		}
		if s.opt.Batch != nil {
			page("GET /manage/batch", auth.CampaignsRead, s.manageBatch)
			page("GET /manage/batch/reconciliation.csv", auth.CampaignsRead, s.manageReconciliation)
			page("GET /manage/batch/{id}/{name}", auth.CampaignsRead, s.manageBatchFile)
		}
		page("GET /manage/imports/{id}/errors.csv", auth.MembersRead, s.manageImportErrors)
		page("GET /manage/campaigns/new", auth.CampaignsWrite, s.manageNew)
		form("POST /manage/campaigns", auth.CampaignsWrite, s.manageCreate)
		page("GET /manage/campaigns/{id}", auth.CampaignsRead, s.manageCampaign)
		page("GET /manage/campaigns/{id}/live", auth.CampaignsRead, s.manageCampaignLive)
		page("GET /manage/campaigns/{id}/edit", auth.CampaignsWrite, s.manageEdit)
		form("POST /manage/campaigns/{id}/edit", auth.CampaignsWrite, s.manageUpdate)
		form("POST /manage/campaigns/{id}/{action}", auth.CampaignsWrite, s.manageAction)
		if s.opt.Funnels != nil {
			s.registerFunnels(api, page)
		}
		if s.opt.Journeys != nil {
			s.registerJourneys(api)
			s.registerJourneyPages(page)
		}
		if s.opt.Variance != nil {
			s.registerVariance(api, form)
			if s.opt.Journeys != nil {
				s.registerJourneyVariance(page, form)
			}
		}
		if s.opt.Catalogue != nil {
			s.registerCataloguePages(page)
		}
		if s.opt.Referrals != nil {
			s.registerReferrals(api, page, form)
			mux.Handle("POST /c/{token}/shared", csrf.Handler(http.HandlerFunc(s.cardShared)))
		}
	}
	if s.opt.Profiles != nil {
		s.registerProfiles(api)
	}
	if s.opt.GatewayCallbacks != nil {
		mux.Handle("/kannel/", s.opt.GatewayCallbacks)
	}
	if s.opt.Links != nil {
		mux.HandleFunc("GET /l/{code}", s.followLink)
	}
	if s.opt.Sim.Gateway != nil && s.opt.Sim.Router != nil {
		mux.Handle("GET /sim", s.simOperator(s.simPage))
		mux.Handle("POST /sim/inbound", csrf.Handler(s.simOperator(s.simInbound)))
		mux.Handle("GET /sim/events", s.simOperator(s.simEvents))
	}
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))

	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if !s.opt.MetricsElsewhere {
		metrics := s.MetricsHandler()
		api("GET /metrics", auth.MetricsRead, func(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
			metrics.ServeHTTP(w, r)
			return nil
		})
	}
	return s.observe(mux)
}

// MetricsHandler serves the Prometheus metrics without asking for a key, for
// a listen address of its own that only the monitoring network reaches.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
}

func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is the answer of /readyz.
type readiness struct {
	Status   string       `json:"status"`   // ready, or not ready
	Database string       `json:"database"` // ok, or unavailable
	SMS      smsReadiness `json:"sms"`
}

type smsReadiness struct {
	Gateway string `json:"gateway"`         // none, sim, smpp, kannel
	Bound   *bool  `json:"bound,omitempty"` // for a gateway that keeps a bind (SMPP)
}

// binder is a gateway that keeps a connection bound (smpp.Client).
type binder interface{ Bound() bool }

// readyz answers 200 only when the database answers, so a load balancer
// stops sending tills to an instance that cannot serve them. It reports
// the SMS gateway's bind beside it but does not fail on it: tills need no
// SMSC, messages wait in the queue until the bind is back, and every
// instance shares the SMSC, so failing here would take them all out of the
// load balancer at once for an outage none of them can fix. Alert on
// perk_smpp_bound instead (docs/operations.md).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	ready := readiness{Status: "ready", Database: "ok", SMS: smsReadiness{Gateway: "none"}}
	if gw := s.opt.Gateway; gw != nil {
		ready.SMS.Gateway = gw.Name()
		if b, ok := gw.(binder); ok {
			bound := b.Bound()
			ready.SMS.Bound = &bound
		}
	}
	if err := s.db.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err)
		ready.Status, ready.Database = "not ready", "unavailable"
		writeJSON(w, http.StatusServiceUnavailable, ready)
		return
	}
	writeJSON(w, http.StatusOK, ready)
}
