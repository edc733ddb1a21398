package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/perk-platform/perk/internal/store"
)

// newRegistry is perk serve's one Prometheus registry, holding the Go
// runtime, the process, the build and the database pools (go_sql_*, by
// db_name: read and write on SQLite, read_write on PostgreSQL). The web
// server, the SMS side and the checkout register their series on it too;
// docs/operations.md lists them.
func newRegistry(db *store.DB) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), thisBuild().collector())
	for name, pool := range db.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	return reg
}
