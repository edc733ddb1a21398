package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
)

const profilesUsage = `usage: perk profiles refresh [-o json]   recompute every member's profile, quintiles and segments now`

// profileConfig holds the refined profiles' settings (docs/profiles.md).
type profileConfig struct {
	Window      time.Duration // frequency, monetary value, visits and affinities look back this far
	HalfLife    time.Duration // affinities: a purchase this old weighs half
	RefreshHour int           // the nightly full refresh, hour of the day (UTC); -1: never
}

// profileFlags registers the settings every command that computes profiles
// shares, so perk serve and perk profiles refresh agree.
func profileFlags(fs *flag.FlagSet, c *Config) {
	daysFlag(fs, &c.Profiles.Window, "profile-window", "PERK_PROFILE_WINDOW", profile.DefaultWindow,
		"members' profiles: the window of frequency, monetary value, visits and affinities (e.g. 365d)")
	daysFlag(fs, &c.Profiles.HalfLife, "profile-half-life", "PERK_PROFILE_HALF_LIFE", profile.DefaultHalfLife,
		"members' profiles: age at which a purchase weighs half in the affinities (e.g. 90d)")
}

// profileServeFlags are perk serve's own: when the nightly refresh runs.
func profileServeFlags(fs *flag.FlagSet, c *Config) {
	profileFlags(fs, c)
	intFlag(fs, &c.Profiles.RefreshHour, "profile-refresh-hour", "PERK_PROFILE_REFRESH_HOUR", 3,
		"hour of the day (UTC, 0-23) of the nightly full refresh of members' profiles and rebuild of the variance norms; -1 never")
}

// profiles is the profile service for db with the configured settings.
func (c *Config) profiles(db *store.DB, log *slog.Logger) *profile.Service {
	return profile.NewService(db, profile.Options{Window: c.Profiles.Window, HalfLife: c.Profiles.HalfLife, Now: c.now()}, log)
}

// profileDrainEvery is how often perk serve brings queued profiles up to
// date: a member's profile follows their basket within this.
const profileDrainEvery = 5 * time.Second

func cmdProfiles(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "refresh" {
		fmt.Fprintln(os.Stderr, profilesUsage)
		return errUsage
	}
	var c Config
	var output string
	fs := flag.NewFlagSet("perk profiles refresh", flag.ContinueOnError)
	commonFlags(fs, &c)
	profileFlags(fs, &c)
	fs.StringVar(&output, "o", "table", "output: table or json")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 || (output != "table" && output != "json") {
		fmt.Fprintln(os.Stderr, profilesUsage)
		return errUsage
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := c.profiles(db, log).Refresh(ctx)
	if err != nil || output == "json" {
		return orJSON(err, res)
	}
	fmt.Printf("%d profiles refreshed, %d members scored, %d entered a segment\n", res.Members, res.Scored, res.Entered)
	if res.Snapshot != "" {
		fmt.Printf("segments at the end of %s kept\n", res.Snapshot)
	}
	return nil
}
