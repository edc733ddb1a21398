package member

// Hooks for the bulk-load floor measurement (floor_bench_test.go), which
// lives outside the package because it needs loadgen.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/tabular"
)

// CleanedMembers cleans the file with the import's own column map and row
// cleaning and returns the members it would create, with distinct codes.
func CleanedMembers(t *testing.T, s *Service, file []byte) []*Member {
	rd, err := tabular.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := newColumnMap(rd.Header())
	if err != nil {
		t.Fatal(err)
	}
	now := nowUTC(s.opt.Now)
	codes := map[Code]bool{}
	var ms []*Member
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue // a broken row, which the import rejects too
		}
		row, rowErr := cm.parse(rec, s.opt.Region, s)
		if rowErr != nil {
			continue
		}
		m := s.newImported(row, "floor", now)
		for m.Code == "" || codes[m.Code] {
			if m.Code, err = NewCode(); err != nil {
				t.Fatal(err)
			}
		}
		codes[m.Code] = true
		ms = append(ms, m)
	}
	return ms
}

var memberTableName = regexp.MustCompile(`\bmembers\b`)

// LoadFloor creates members_floor like members and loads ms into it in one
// transaction.
func LoadFloor(ctx context.Context, db *store.DB, ms []*Member) error {
	cols := strings.Split(memberColumns, ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	if db.Dialect == store.Postgres {
		if _, err := db.W.ExecContext(ctx, `CREATE TABLE members_floor (LIKE members INCLUDING ALL)`); err != nil {
			return err
		}
		return db.ConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			return conn.Raw(func(dc any) error {
				_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{"members_floor"}, cols,
					pgx.CopyFromSlice(len(ms), func(i int) ([]any, error) { return memberArgs(ms[i]), nil }))
				return err
			})
		})
	}
	// SQLite: the members table's own CREATE statements, renamed.
	rows, err := db.W.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE tbl_name = 'members' AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	var ddl []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return err
		}
		q = memberTableName.ReplaceAllString(q, "members_floor")
		q = strings.Replace(q, "INDEX ", "INDEX floor_", 1)
		ddl = append(ddl, q)
	}
	rows.Close()
	for _, q := range ddl {
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO members_floor (`+memberColumns+`) VALUES (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+`)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, m := range ms {
			if _, err := stmt.ExecContext(ctx, memberArgs(m)...); err != nil {
				return err
			}
		}
		return nil
	})
}
