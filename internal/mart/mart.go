// Package mart exports Perk's data as a star schema for a data warehouse:
// fact tables of contacts (outbound SMS), responses (clicks, replies,
// redemptions, opt-outs), transactions and their lines, and dimensions of
// members (pseudonymised), campaigns, channels, stores and dates, as CSV or
// parquet files with a manifest. docs/data-mart.md describes every column.
//
// It reads the database in one read-only snapshot and streams rows from the
// queries to the files, so memory does not grow with the tables. It is not a
// report: it computes nothing the warehouse can compute from the rows.
package mart

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// Options configure an export.
type Options struct {
	Dir    string    // where the files go; created if missing
	Format string    // CSV or Parquet
	Since  time.Time // zero: every fact; else only facts with a time at or after it (see docs/data-mart.md)
	Key    []byte    // the pseudonym key (ParseKey)
	Now    func() time.Time
}

// TableInfo describes one written file in the manifest.
type TableInfo struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Fact   bool   `json:"fact"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Manifest is manifest.json, written last: a folder without one holds an
// unfinished export.
type Manifest struct {
	Format     string      `json:"format"`
	ExportedAt time.Time   `json:"exported_at"`
	Since      *time.Time  `json:"since"`
	KeyID      string      `json:"pseudonym_key_id"`
	Tables     []TableInfo `json:"tables"`
}

// Rows is the total number of rows written.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// ManifestFile is the name of the manifest in the export folder.
const ManifestFile = "manifest.json"

// Export writes every table of the mart into o.Dir.
func Export(ctx context.Context, db *store.DB, o Options) (*Manifest, error) {
	if o.Format == "" {
		o.Format = CSV
	}
	if o.Format != CSV && o.Format != Parquet {
		return nil, fmt.Errorf("mart: format must be csv or parquet, not %q", o.Format)
	}
	if len(o.Key) < MinKeyBytes {
		return nil, ErrNoKey
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("mart: %w", err)
	}
	// An old manifest would vouch for files this export is replacing.
	if err := os.Remove(filepath.Join(o.Dir, ManifestFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("mart: %w", err)
	}
	m := &Manifest{Format: o.Format, ExportedAt: o.Now().UTC().Truncate(time.Second), KeyID: keyID(o.Key)}
	if !o.Since.IsZero() {
		s := o.Since.UTC()
		m.Since = &s
	}

	// One read-only transaction: every table comes from the same snapshot,
	// so each fact's member and campaign are in the dimensions.
	tx, err := db.ReadSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("mart: begin: %w", err)
	}
	defer tx.Rollback()

	e := &exporter{tx: tx, o: o, since: o.Since.UTC(), pseudo: newPseudonymiser(o.Key)}
	for _, t := range Tables {
		info, err := e.table(ctx, t)
		if err != nil {
			return nil, err
		}
		m.Tables = append(m.Tables, info)
	}
	a, err := createAtomic(o.Dir, ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("mart: %w", err)
	}
	enc := json.NewEncoder(a)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		a.abort()
		return nil, fmt.Errorf("mart: manifest: %w", err)
	}
	if err := a.commit(); err != nil {
		a.abort()
		return nil, fmt.Errorf("mart: manifest: %w", err)
	}
	return m, nil
}

// exporter holds the state of one export.
type exporter struct {
	tx     *sql.Tx
	o      Options
	since  time.Time
	pseudo *pseudonymiser
	// minDay and maxDay are the first and last date_key of the facts
	// written, for dim_date.
	minDay, maxDay int64
}

// table writes one table through its file writer.
func (e *exporter) table(ctx context.Context, t Table) (TableInfo, error) {
	w, err := newWriter(e.o.Dir, t, e.o.Format)
	if err != nil {
		return TableInfo{}, errf(t, err)
	}
	defer w.Abort()
	emit := w.Write
	if t.Fact {
		key := len(t.Columns) - 1 // date_key is every fact's last column
		emit = func(r Row) error {
			e.day(r[key].N)
			return w.Write(r)
		}
	}
	if err := e.rows(ctx, t, emit); err != nil {
		return TableInfo{}, errf(t, err)
	}
	if err := w.Close(); err != nil {
		return TableInfo{}, errf(t, err)
	}
	return w.Info(), nil
}

func (e *exporter) day(k int64) {
	if e.minDay == 0 || k < e.minDay {
		e.minDay = k
	}
	if k > e.maxDay {
		e.maxDay = k
	}
}

// rows produces the rows of t.
func (e *exporter) rows(ctx context.Context, t Table, emit func(Row) error) error {
	switch t.Name {
	case FactContact.Name:
		return e.contacts(ctx, emit)
	case FactResponse.Name:
		return e.responses(ctx, emit)
	case FactTransaction.Name:
		return e.transactions(ctx, emit)
	case FactTransactionLine.Name:
		return e.lines(ctx, emit)
	case FactReferral.Name:
		return e.referrals(ctx, emit)
	case DimMember.Name:
		return e.members(ctx, emit)
	case DimMemberProfile.Name:
		return e.profiles(ctx, emit)
	case DimCampaign.Name:
		return e.campaigns(ctx, emit)
	case DimChannel.Name:
		for _, c := range channels {
			if err := emit(Row{Str(c[0]), Str(c[1])}); err != nil {
				return err
			}
		}
		return nil
	case DimStore.Name:
		return e.stores(ctx, emit)
	case DimDate.Name:
		return e.dates(emit)
	}
	return fmt.Errorf("no source for table %s", t.Name)
}

// each runs query and calls scan for every row.
func (e *exporter) each(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := e.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
