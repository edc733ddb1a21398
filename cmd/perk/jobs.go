package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/store"
)

func jobFlags(fs *flag.FlagSet, c *Config) {
	durationFlag(fs, &c.JobLease, "job-lease", "PERK_JOB_LEASE", 30*time.Second,
		"how long a background job (import, batch file) is reserved for its runner without a heartbeat before another instance takes it over")
}

// nodeFile holds the name of the instance that owns a data folder, so that
// jobs whose input files are in that folder run there, and a restart finds
// its own interrupted jobs.
const nodeFile = "node"

// node returns the data folder's node name, making one the first time.
func (c *Config) node() (string, error) {
	path := filepath.Join(c.DataDir, nodeFile)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node name: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return "", fmt.Errorf("node name: %w", err)
	}
	name := "n" + id.Token(5)
	if err := os.WriteFile(path, []byte(name+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node name: %w", err)
	}
	return name, nil
}

// jobQueue is the durable job queue of perk serve.
func (c *Config) jobQueue(db *store.DB, log *slog.Logger) (*job.Queue, error) {
	node, err := c.node()
	if err != nil {
		return nil, err
	}
	return job.New(db, job.Options{Node: node, Log: log, Lease: c.JobLease, Now: c.now()}), nil
}
