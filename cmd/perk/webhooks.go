package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/webhook"
)

func webhookFlags(fs *flag.FlagSet, c *Config) {
	boolFlag(fs, &c.WebhooksAllowPrivate, "webhooks-allow-private", "PERK_WEBHOOKS_ALLOW_PRIVATE", false,
		"let webhook endpoints be on loopback, private and link-local addresses (for tests and closed networks)")
}

// webhooks is the process's one webhook service: every domain service
// records its events through it and the API manages endpoints with it, so a
// change of endpoints here is seen at once by the recorders.
func (c *Config) webhooks(db *store.DB, log *slog.Logger) *webhook.Service {
	if c.wh == nil || c.whDB != db {
		c.wh = webhook.NewService(db, webhook.Options{Log: log, AllowPrivate: c.WebhooksAllowPrivate, Now: c.now()})
		c.whDB = db
	}
	return c.wh
}

const webhooksUsage = `usage: perk webhooks add --url URL --events TYPE,TYPE... [--description D]
       perk webhooks list
       perk webhooks rotate ID [--grace 24h]
       perk webhooks remove ID
       perk webhooks deliveries ID [--status pending|sending|delivered|dead] [--limit N]
       perk webhooks replay DELIVERY_ID
event types: ` + "member.created ... (perk webhooks add -h)"

func cmdWebhooks(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, webhooksUsage)
		return errUsage
	}
	var c Config
	var url, events, description, status string
	var grace time.Duration
	var limit int
	fs := flag.NewFlagSet("perk webhooks "+args[0], flag.ContinueOnError)
	commonFlags(fs, &c)
	webhookFlags(fs, &c)
	switch args[0] {
	case "add":
		fs.StringVar(&url, "url", "", "the endpoint's URL (http or https)")
		fs.StringVar(&events, "events", "", "comma-separated event types: "+strings.Join(change.Types, ", "))
		fs.StringVar(&description, "description", "", "a note on what the endpoint is")
	case "rotate":
		fs.DurationVar(&grace, "grace", 24*time.Hour, "how long the old secret keeps signing beside the new one")
	case "deliveries":
		fs.StringVar(&status, "status", "", "only deliveries in this state")
		fs.IntVar(&limit, "limit", 50, "at most this many, newest first")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	wh := c.webhooks(db, log)
	arg := func() (string, error) {
		if fs.NArg() != 1 {
			return "", fmt.Errorf("perk webhooks %s: want one id\n%s", args[0], webhooksUsage)
		}
		return fs.Arg(0), nil
	}
	switch args[0] {
	case "add":
		var types []string
		for _, t := range strings.Split(events, ",") {
			if t = strings.TrimSpace(t); t != "" {
				types = append(types, t)
			}
		}
		e, err := wh.Create(ctx, webhook.Spec{URL: url, Description: description, EventTypes: types})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "created endpoint %s; its secret is shown this once:\n", e.ID)
		fmt.Println(e.Secret)
		return nil
	case "list":
		list, err := wh.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tURL\tEVENTS\tDESCRIPTION\tCREATED")
		for _, e := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.URL, strings.Join(e.EventTypes, ","), e.Description, e.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "rotate":
		id, err := arg()
		if err != nil {
			return err
		}
		e, err := wh.Rotate(ctx, id, grace)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "rotated %s; the old secret also signs until %s; the new one, shown this once:\n",
			e.ID, e.PreviousUntil.Format(time.RFC3339))
		fmt.Println(e.Secret)
		return nil
	case "remove":
		id, err := arg()
		if err != nil {
			return err
		}
		return wh.Delete(ctx, id)
	case "deliveries":
		id, err := arg()
		if err != nil {
			return err
		}
		ds, err := wh.Deliveries(ctx, id, webhook.DeliveryQuery{Status: status, Limit: limit})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEVENT\tTYPE\tSTATUS\tATTEMPTS\tCODE\tCREATED\tLAST ERROR")
		for _, d := range ds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.ID, d.EventID, d.EventType, d.Status, d.Attempts, d.LastCode,
				d.CreatedAt.Format(time.RFC3339), d.LastError)
		}
		return tw.Flush()
	case "replay":
		id, err := arg()
		if err != nil {
			return err
		}
		d, err := wh.Replay(ctx, id)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"id": d.ID, "status": d.Status, "next_attempt_at": d.NextAt})
	}
	fmt.Fprintln(os.Stderr, webhooksUsage)
	return errUsage
}

// changes is what every domain service reports its changes to: the
// webhooks' outbox and the CRM feed's log, both written in the transaction
// of the change.
func (c *Config) changes(db *store.DB, log *slog.Logger) change.Recorder {
	return change.Multi{c.webhooks(db, log), crm.NewFeed(db, c.now())}
}
