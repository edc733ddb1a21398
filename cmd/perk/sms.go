package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/kannel"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/sms/smpp"
	"github.com/perk-platform/perk/internal/store"
)

func smsFlags(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.SMS, "sms", "PERK_SMS", "", "SMS gateway: none (queue only; the default, or sim with --demo), sim (built-in simulator), smpp://system_id:password@host:2775?source=PERK&tps=100&window=50, or kannel://user:pass@host:13013?secret=S&from=PERK")
	strFlag(fs, &c.QuietHours, "quiet-hours", "PERK_QUIET_HOURS", "08:00-21:00", "local hours in which marketing SMS may be sent")
	strFlag(fs, &c.FrequencyCap, "frequency-cap", "PERK_FREQUENCY_CAP", "3/7d", "marketing SMS per member per rolling window (0 for none)")
	strFlag(fs, &c.DefaultZone, "default-zone", "PERK_DEFAULT_ZONE", "Europe/London", "time zone for members whose number gives none")
	replyFlags(fs, c)
	durationFlag(fs, &c.SMSLease, "sms-lease", "PERK_SMS_LEASE", 30*time.Second, "how long a claimed message is reserved for its sender before another may retry it")
}

// replyFlags registers the wording of keyword replies, shared by perk serve
// and perk sms.
func replyFlags(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.HelpContact, "help-contact", "PERK_HELP_CONTACT", "reply HELP or visit the store", "contact given in HELP replies")
	strFlag(fs, &c.Frequency, "frequency-text", "PERK_FREQUENCY_TEXT", "Up to 3 msgs/week", "message frequency stated in replies")
	strFlag(fs, &c.Keywords, "keywords", "PERK_KEYWORDS", "", "JSON file of keyword aliases and reply texts (see docs/sms.md)")
	textFlags(fs, c)
}

// smsStack is the running SMS side of the server.
type smsStack struct {
	sim     *sim.Gateway // set when the simulator is the gateway
	router  *router.Router
	handler http.Handler // Kannel's callbacks (/kannel/...), when Kannel is the gateway
	gateway sms.Gateway  // nil when none sends
	sender  *sms.Sender  // nil when none sends
	wg      sync.WaitGroup
}

func (s *smsStack) wait() { s.wg.Wait() }

// newRouter builds the keyword router from the configuration.
func (c *Config) newRouter(db *store.DB, members *member.Service, wallet router.Wallets, refs *referral.Service, log *slog.Logger, wake func()) (*router.Router, error) {
	// The texts, with the keyword file's replies, are the member service's
	// (loadTexts).
	opt := router.Options{Texts: members.Texts(), Log: log, Wake: wake, Wallet: wallet, Referrals: refs, Now: c.now()}
	if c.Keywords != "" {
		kc, err := router.LoadConfig(c.Keywords)
		if err != nil {
			return nil, err
		}
		if err := kc.Apply(&opt); err != nil {
			return nil, err
		}
	}
	return router.New(db, members, opt)
}

// startSMS starts the gateway and the sender, which stop with ctx. Their
// series, and the queue's, go to reg.
func (c *Config) startSMS(ctx context.Context, db *store.DB, members *member.Service, wallet router.Wallets, refs *referral.Service, camps sms.Campaigns,
	log *slog.Logger, reg prometheus.Registerer) (*smsStack, error) {
	pol, pcfg, err := c.contactPolicy()
	if err != nil {
		return nil, err
	}
	st := &smsStack{}
	// Inbound messages go to the router, which is built after the sender it
	// wakes; gateways only call this once they run.
	inbound := func(ctx context.Context, in sms.Inbound) error {
		_, err := st.router.Handle(ctx, in)
		return err
	}
	queue := sms.NewQueue(db, c.now(), c.SMSLease, 8)
	metrics := sms.NewMetrics(reg)
	queue.SetMetrics(metrics)
	queue.SetChanges(c.changes(db, log))
	if reg != nil {
		reg.MustRegister(queue.DepthCollector(log)) // without a gateway too: that queue only grows
	}
	var gw sms.Gateway
	parallel := 0 // messages in flight at once; 0 keeps the default
	switch {
	case c.SMS == "none":
		// Nothing sends: messages wait in the queue for a gateway.
	case c.SMS == "sim":
		st.sim = sim.New(c.now())
		gw = st.sim
	case strings.HasPrefix(c.SMS, "smpp://"), strings.HasPrefix(c.SMS, "smpps://"):
		if gw, parallel, err = startSMPP(ctx, c.SMS, queue, inbound, log, reg, &st.wg); err != nil {
			return nil, err
		}
	case strings.HasPrefix(c.SMS, "kannel://"):
		raw := c.SMS
		if !strings.Contains(raw, "public=") {
			// Kannel calls Perk back at its public URL unless told otherwise.
			sep := "?"
			if strings.Contains(raw, "?") {
				sep = "&"
			}
			raw += sep + "public=" + url.QueryEscape(c.PublicURL)
		}
		cfg, err := kannel.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("--sms: %w", err)
		}
		cfg.Log = log
		k := kannel.New(cfg, inbound)
		k.SetReceiptHandler(queue.Delivered) // stored before Kannel gets its 200
		st.handler = k.Handler()
		gw = k
	default:
		return nil, fmt.Errorf("--sms %q: want none, sim, smpp://... or kannel://...", redactURL(c.SMS))
	}
	if gw == nil {
		if st.router, err = c.newRouter(db, members, wallet, refs, log, func() {}); err != nil {
			return nil, err
		}
		log.Warn("NO SMS GATEWAY: messages are queued and not sent until perk serve runs with --sms (sim, smpp://... or kannel://...)")
		return st, nil
	}
	st.gateway = gw
	sender := sms.NewSender(queue, gw, sms.NewContactPolicy(db, pol, camps), log, c.now())
	st.sender = sender
	sender.Metrics = metrics
	if parallel > 0 {
		sender.Parallel = parallel
	}
	if st.router, err = c.newRouter(db, members, wallet, refs, log, sender.Wake); err != nil {
		return nil, err
	}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		sender.Run(ctx)
	}()
	log.Info("sms gateway", "gateway", gw.Name(), "quiet_hours", pcfg.Window.String(), "frequency_cap", pcfg.Cap.String())
	return st, nil
}

// startSMPP starts the SMPP client(s) of url, which stop with ctx (wg
// waits for them), storing receipts in queue before the SMSC is
// acknowledged. parallel is how many messages the sender may have in
// flight: messages in flight or accepted but unrecorded never exceed it,
// so a crash repeats at most one window.
func startSMPP(ctx context.Context, url string, queue *sms.Queue, inbound func(context.Context, sms.Inbound) error,
	log *slog.Logger, reg prometheus.Registerer, wg *sync.WaitGroup) (gw sms.Gateway, parallel int, err error) {
	cfg, err := smpp.ParseURL(url)
	if err != nil {
		return nil, 0, fmt.Errorf("--sms: %w", err)
	}
	cfg.Log, cfg.Registry = log, reg
	binds := smpp.NewBinds(cfg, inbound)
	// Receipts are stored before the SMSC is acknowledged, all those
	// waiting in one transaction.
	binds.SetReceiptBatchHandler(queue.DeliveredBatch)
	wg.Go(func() {
		if err := binds.Run(ctx); err != nil {
			log.Error("smpp client stopped", "err", err)
		}
	})
	return binds, binds.Window(), nil
}

// contactPolicy is the contact policy of --quiet-hours, --frequency-cap
// and --default-zone.
func (c *Config) contactPolicy() (*policy.Policy, policy.Config, error) {
	window, err := policy.ParseWindow(c.QuietHours)
	if err != nil {
		return nil, policy.Config{}, fmt.Errorf("--quiet-hours: %w", err)
	}
	capping, err := policy.ParseCap(c.FrequencyCap)
	if err != nil {
		return nil, policy.Config{}, fmt.Errorf("--frequency-cap: %w", err)
	}
	cfg := policy.Config{Window: window, Cap: capping, DefaultZone: c.DefaultZone}
	p, err := policy.New(cfg)
	return p, cfg, err
}

// redactURL hides the password and any shared secret of a gateway URL for
// messages and logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	q := u.Query()
	for _, k := range []string{"secret", "password", "pass"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

func cmdSMS(ctx context.Context, args []string) error {
	switch {
	case len(args) == 0:
	case args[0] == "inject", args[0] == "outbox", args[0] == "send", args[0] == "status":
		return smsCommand(ctx, args)
	case args[0] == "texts":
		return cmdSMSTexts(ctx, args[1:])
	}
	fmt.Fprintln(os.Stderr, `usage: perk sms send --to NUMBER [--marketing] [--campaign ID] "TEXT"
       perk sms inject --from NUMBER "TEXT"
       perk sms outbox [--to NUMBER] [--limit N] [-o table|json]
       perk sms status [--campaign ID] [-o table|json]
       perk sms texts [--locale L] [--texts DIR]`)
	return errUsage
}

func smsCommand(ctx context.Context, args []string) error {
	var c Config
	var from, to, campaign, output string
	var limit int
	var marketing bool
	fs := flag.NewFlagSet("perk sms "+args[0], flag.ContinueOnError)
	commonFlags(fs, &c)
	// The same settings as perk serve, so a reply queued here reads as one
	// the server would have written.
	programmeFlag(fs, &c)
	localeFlag(fs, &c)
	publicURLFlags(fs, &c) // card links in replies
	replyFlags(fs, &c)
	loyaltyFlags(fs, &c)
	switch args[0] {
	case "inject":
		fs.StringVar(&from, "from", "", "the sender's mobile number")
	case "outbox":
		fs.StringVar(&to, "to", "", "only messages to this number")
		fs.IntVar(&limit, "limit", 20, "messages to show, newest first")
		outputFlag(fs, &output, "table", "json")
	case "send":
		fs.StringVar(&to, "to", "", "the recipient's mobile number")
		fs.BoolVar(&marketing, "marketing", false, "a marketing message: the contact policy applies")
		fs.StringVar(&campaign, "campaign", "", "campaign the message is sent for")
	case "status":
		fs.StringVar(&campaign, "campaign", "", "only this campaign's messages")
		outputFlag(fs, &output, "table", "json")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "outbox" || args[0] == "status" {
		if err := checkOutput("sms "+args[0], output, "table", "json"); err != nil {
			return err
		}
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "outbox":
		return printOutbox(ctx, db, to, limit, c.Region, output)
	case "status":
		return printStatus(ctx, db, campaign, output)
	case "send":
		return smsSend(ctx, db, &c, log, to, strings.Join(fs.Args(), " "), marketing, campaign)
	}
	if from == "" || fs.NArg() == 0 {
		return fmt.Errorf(`usage: perk sms inject --from NUMBER "TEXT"`)
	}
	// The reply is queued in the database; a running "perk serve" sends it.
	if err := c.loadTexts(log); err != nil {
		return err
	}
	members := c.memberService(db, log)
	loy, err := c.loyalty(db, members, links.NewService(db, c.PublicURL, nil), log)
	if err != nil {
		return err
	}
	rt, err := c.newRouter(db, members, loy.nbo, loy.referrals, log, nil)
	if err != nil {
		return err
	}
	res, err := rt.Handle(ctx, sms.Inbound{From: from, To: "cli", Body: strings.Join(fs.Args(), " ")})
	if err != nil {
		return err
	}
	kw := string(res.Keyword)
	if kw == "" {
		kw = "(not understood)"
	}
	fmt.Printf("keyword %s, member %s, reply queued: %v\n", kw, res.MemberID, res.Replied)
	return nil
}

// outboxRow is one message as "perk sms outbox -o json" prints it; the
// number is masked there too, since the output ends up in tickets and logs.
type outboxRow struct {
	CreatedAt     time.Time `json:"created_at"`
	To            string    `json:"to"`
	Kind          string    `json:"kind"`
	Purpose       string    `json:"purpose"`
	Status        string    `json:"status"`
	DeliveryState string    `json:"delivery_state"`
	HeldReason    string    `json:"held_reason,omitempty"`
	Text          string    `json:"text"`
}

func printOutbox(ctx context.Context, db *store.DB, to string, limit int, region, output string) error {
	q := `SELECT created_at, COALESCE(to_phone, ''), kind, purpose, status, delivery_state, held_reason, body FROM sms_outbox`
	args := []any{}
	if to != "" {
		n, err := phone.Parse(to, region)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		q += ` WHERE to_phone = $1`
		args = append(args, string(n))
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))
	rows, err := db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	list := []outboxRow{}
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.CreatedAt, &r.To, &r.Kind, &r.Purpose, &r.Status, &r.DeliveryState, &r.HeldReason, &r.Text); err != nil {
			return err
		}
		r.CreatedAt, r.To = r.CreatedAt.UTC(), phone.Mask(r.To)
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(os.Stdout, list)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tTO\tKIND\tPURPOSE\tSTATUS\tDELIVERY\tHELD\tTEXT")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.CreatedAt.Format(time.RFC3339), r.To, r.Kind, r.Purpose,
			r.Status, r.DeliveryState, r.HeldReason, r.Text)
	}
	return tw.Flush()
}

// smsSend queues one message; a running "perk serve" sends it.
func smsSend(ctx context.Context, db *store.DB, c *Config, log *slog.Logger, to, text string, marketing bool, campaign string) error {
	n, err := phone.Parse(to, c.Region)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf(`usage: perk sms send --to NUMBER "TEXT"`)
	}
	o := sms.Outbound{To: string(n), Body: text, Kind: sms.Transactional, Purpose: "operator", Campaign: campaign}
	if marketing {
		o.Kind = sms.Marketing
	}
	if m, err := c.memberService(db, log).ByPhone(ctx, string(n)); err == nil {
		o.MemberID = m.ID
	}
	msgID, err := sms.Enqueue(ctx, db.W, o, time.Now())
	if err != nil {
		return err
	}
	fmt.Printf("queued %s to %s (%s)\n", msgID, phone.Mask(string(n)), o.Kind)
	return nil
}

func printStatus(ctx context.Context, db *store.DB, campaign, output string) error {
	c, err := sms.Count(ctx, db, campaign)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(os.Stdout, c)
	}
	fmt.Printf("messages %d: queued %d, sending %d, sent %d, failed %d, held %d, cancelled %d; delivered %d, not delivered %d; clicks %d\n",
		c.Total, c.ByStatus[sms.StatusQueued], c.ByStatus[sms.StatusSending], c.ByStatus[sms.StatusSent], c.ByStatus[sms.StatusFailed],
		c.ByStatus[sms.StatusHeld], c.ByStatus[sms.StatusCancelled], c.Delivered, c.Undeliv, c.Clicks)
	for _, st := range []string{sms.StatusHeld, sms.StatusCancelled} {
		if len(c.Reasons[st]) == 0 {
			continue
		}
		var parts []string
		for _, r := range slices.Sorted(maps.Keys(c.Reasons[st])) {
			parts = append(parts, fmt.Sprintf("%s %d", r, c.Reasons[st][r]))
		}
		fmt.Printf("%s: %s\n", st, strings.Join(parts, ", "))
	}
	return nil
}
