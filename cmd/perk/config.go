package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/clock"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/sms/texts"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/webhook"
)

// Config is every setting of the perk binary. Flags win over PERK_*
// environment variables, which win over the --config file, which wins over
// the defaults.
type Config struct {
	ConfigFile string
	DB         string
	DataDir    string
	Region     string
	LogLevel   string
	LogFormat  string

	Addr            string
	PublicURL       string
	Demo            bool
	DoubleOptIn     bool
	Barcode         string
	Programme       string
	Locale          string
	ConsentWording  string
	ConsentVersion  string
	JoinPerMinute   int
	IngestRate      int           // event batches per minute per address for public ingest keys
	SessionGap      time.Duration // inactivity that ends a shopper's session
	AbandonAfter    time.Duration // time after a cart without a purchase that raises cart_abandoned
	JourneyLease    time.Duration // how long a journey runner owns the enrolments it claimed
	EventsRetention time.Duration // how long events are kept; 0 keeps them for ever
	CRMFeedKeep     time.Duration // how long the CRM feed's log keeps a change; 0 keeps them for ever
	MetricsAddr     string
	Clock           string // "real", "simulated" or "simulated:RFC3339" (perk serve)
	LookupRate      int
	LookupBurst     int
	BatchDir        string // the managed service's watched folder
	OfferExport     string // "daily 05:00": offer files into its outbox
	BatchWorkers    int    // baskets of a transaction file committed at once
	Profiles        profileConfig

	SMS          string
	QuietHours   string
	FrequencyCap string
	DefaultZone  string
	HelpContact  string
	Frequency    string
	Keywords     string
	Texts        string
	SMSLease     time.Duration
	JobLease     time.Duration

	Loyalty loyaltyConfig

	texts *texts.Catalogue // loaded by loadTexts; nil: the member service's defaults

	WebhooksAllowPrivate bool
	wh                   *webhook.Service // see webhooks
	whDB                 *store.DB

	// simClock is perk serve's simulated clock (--clock simulated); nil is
	// the wall clock. Every service serve wires reads now().
	simClock *clock.Simulated
}

// now is the clock every service of the process reads: the simulated one
// if --clock asked for it, else the wall clock.
func (c *Config) now() func() time.Time {
	if c.simClock != nil {
		return c.simClock.Now
	}
	return time.Now
}

// commonFlags registers the settings every command needs.
func commonFlags(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.ConfigFile, "config", configEnv, "", "file of PERK_NAME=VALUE lines, one per setting; flags and the environment win over it")
	strFlag(fs, &c.DB, "db", "PERK_DB", "", "database: postgres://... or a SQLite file path (default DATA-DIR/perk.db)")
	strFlag(fs, &c.DataDir, "data-dir", "PERK_DATA_DIR", "./data", "folder for the SQLite database and uploads")
	strFlag(fs, &c.Region, "region", "PERK_REGION", "GB", "default phone region for numbers without a country code (ISO 3166)")
	strFlag(fs, &c.LogLevel, "log-level", "PERK_LOG_LEVEL", "info", "debug, info, warn or error")
	strFlag(fs, &c.LogFormat, "log-format", "PERK_LOG_FORMAT", "text", "text or json")
}

// The helpers below register a flag with its PERK_* variable, named in the
// usage as " [PERK_DB]" (envUsage); -h shows the built-in default. parse
// reads the variable back from there (flagEnv) and, after the command line,
// applies the environment and then the --config file (settings.go).

func strFlag(fs *flag.FlagSet, p *string, name, env, def, usage string) {
	fs.StringVar(p, name, def, envUsage(usage, env))
}

func boolFlag(fs *flag.FlagSet, p *bool, name, env string, def bool, usage string) {
	fs.BoolVar(p, name, def, envUsage(usage, env))
}

func intFlag(fs *flag.FlagSet, p *int, name, env string, def int, usage string) {
	fs.IntVar(p, name, def, envUsage(usage, env))
}

func int64Flag(fs *flag.FlagSet, p *int64, name, env string, def int64, usage string) {
	fs.Int64Var(p, name, def, envUsage(usage, env))
}

func durationFlag(fs *flag.FlagSet, p *time.Duration, name, env string, def time.Duration, usage string) {
	fs.DurationVar(p, name, def, envUsage(usage, env))
}

// daysFlag is a duration flag that also takes whole days, "400d": the unit
// retention periods are thought in.
func daysFlag(fs *flag.FlagSet, p *time.Duration, name, env string, def time.Duration, usage string) {
	*p = def
	fs.Var((*days)(p), name, envUsage(usage, env))
}

type days time.Duration

func (d *days) String() string {
	if d == nil || *d == 0 {
		return "0"
	}
	if v := time.Duration(*d); v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return time.Duration(*d).String()
}

func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 {
			return fmt.Errorf("%q: want whole days such as 400d, or a duration such as 72h", s)
		}
		*d = days(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q: want whole days such as 400d, or a duration such as 72h", s)
	}
	*d = days(v)
	return nil
}

// parse parses args, flags before or after the positional arguments
// (interspersed), turning -h and flag errors into errUsage, and then gives
// every flag the command line left alone its PERK_* variable or, if the
// environment has none, the value in the --config file. fs.Args() are the
// positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(interspersed(fs, args)); err != nil {
		return errUsage
	}
	_, err := resolveSettings(fs, os.LookupEnv)
	return err
}

// interspersed reorders args so that the standard flag package, which
// stops at the first positional argument, sees every flag: the flags (each
// with its value when it takes one: "--data-dir D" as well as
// "--data-dir=D") come first, then "--" and the positional arguments in
// their order. Everything after a "--" is positional, so a text that
// starts with "-" can still be given ("perk sms inject --from N -- -5").
// An undefined flag stays a flag for fs.Parse to refuse.
func interspersed(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if hasValue || f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 == len(args) {
			// Its value is missing: it must stay last for fs.Parse to
			// refuse it, rather than take the "--" below as its value.
			return flags
		}
		i++
		flags = append(flags, args[i])
	}
	if len(pos) == 0 {
		return flags
	}
	return append(append(flags, "--"), pos...)
}

func (c *Config) dsn() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "perk.db")
}

func (c *Config) validate() error {
	if err := phone.ValidRegion(c.Region); err != nil {
		return err
	}
	return nil
}

func (c *Config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
}

// openDB opens and migrates the database.
func (c *Config) openDB(ctx context.Context, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, c.dsn())
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("database migrated", "db", db.Redacted(), "applied", n)
	}
	return db, nil
}

// memberService is the member service every command uses, reporting its
// changes to the webhooks.
func (c *Config) memberService(db *store.DB, log *slog.Logger) *member.Service {
	o := c.memberOptions(log)
	o.Changes = c.changes(db, log)
	return member.NewService(db, o)
}

func (c *Config) memberOptions(log *slog.Logger) member.Options {
	return member.Options{
		Region: c.Region, PublicURL: c.PublicURL, Programme: c.Programme, ConsentVersion: c.ConsentVersion,
		Now: c.now(), Log: log, Texts: c.texts,
	}
}

// logAttrs describes the configuration for the start-up log line, with the
// database password redacted.
func (c *Config) logAttrs(db *store.DB) []any {
	return []any{"config", c.ConfigFile, "sms", redactURL(c.SMS), "addr", c.Addr, "public_url", c.PublicURL, "db", db.Redacted(), "data_dir", c.DataDir, "texts", c.Texts,
		"region", c.Region, "demo", c.Demo, "double_opt_in", c.DoubleOptIn, "barcode", c.Barcode,
		"programme", c.Programme, "locale", c.Locale, "consent_version", c.ConsentVersion, "join_per_minute", c.JoinPerMinute, "metrics_addr", c.MetricsAddr,
		"till_lookup_rate", c.LookupRate, "till_lookup_burst", c.LookupBurst, "clock", c.clockName()}
}

// setup is the shared start of commands that use the database.
func setup(ctx context.Context, c *Config) (*store.DB, *slog.Logger, error) {
	log, err := c.logger(os.Stderr)
	if err != nil {
		return nil, nil, err
	}
	if err := c.validate(); err != nil {
		return nil, nil, err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + strings.TrimPrefix(c.Addr, "http://")
	}
	db, err := c.openDB(ctx, log)
	if err != nil {
		return nil, nil, err
	}
	return db, log, nil
}
