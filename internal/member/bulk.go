package member

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// insertMembers inserts ms, first drawing codes that are free both in the
// database and within ms: with COPY on conn where there is one (PostgreSQL),
// else with multi-row INSERTs.
//
// syncRun, when not "", is the CRM sync run that named the new members,
// written with them (crm_sync), so a sync does not update each new row
// again to mark it.
func insertMembers(ctx context.Context, conn *sql.Conn, q querier, d store.Dialect, ms []*Member, syncRun string) error {
	if len(ms) == 0 {
		return nil
	}
	if err := assignFreeCodes(ctx, q, d, ms); err != nil {
		return err
	}
	cols, columns := 19, memberColumns
	if syncRun != "" {
		cols, columns = 20, memberColumns+", crm_sync"
	}
	if conn != nil {
		names := strings.Split(columns, ",")
		for i := range names {
			names[i] = strings.TrimSpace(names[i])
		}
		err := store.CopyRows(ctx, conn, "members", names, len(ms), func(i int) []any {
			args := memberArgs(ms[i])
			if syncRun != "" {
				args = append(args, syncRun)
			}
			return args
		})
		if err != nil {
			return conflictOr(err, "import insert")
		}
		return nil
	}
	// On SQLite a multi-row INSERT into a table with UNIQUE constraints
	// keeps a statement journal, so that a conflict on its 400th row can
	// undo the 399 before it and leave the transaction as it was: a fifth
	// of an import's CPU went to that journal. The import never needs it:
	// it looked the rows' keys up in this very transaction (SQLite's one
	// writer), and on a conflict all it does is retry the whole batch
	// (upsertChunk). OR ROLLBACK says exactly that, and SQLite then keeps
	// no statement journal.
	insertVerb := "INSERT"
	if d == store.SQLite {
		insertVerb = "INSERT OR ROLLBACK"
	}
	// Stay well under SQLite's 32766 and PostgreSQL's 65535 bound parameters.
	const perStmt = 500
	for start := 0; start < len(ms); start += perStmt {
		part := ms[start:min(start+perStmt, len(ms))]
		var b strings.Builder
		b.WriteString(insertVerb + ` INTO members (` + columns + `) VALUES `)
		args := make([]any, 0, len(part)*cols)
		for i, m := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + d.Placeholders(i*cols+1, cols) + ")")
			args = append(args, memberArgs(m)...)
			if syncRun != "" {
				args = append(args, syncRun)
			}
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return conflictOr(err, "import insert")
		}
	}
	return nil
}

func assignFreeCodes(ctx context.Context, q querier, d store.Dialect, ms []*Member) error {
	pending := ms
	taken := map[Code]bool{}
	for round := 0; len(pending) > 0; round++ {
		if round > maxCodeTries {
			return fmt.Errorf("import: could not draw free member codes (code space nearly full?)")
		}
		args := make([]any, len(pending))
		for i, m := range pending {
			for {
				c, err := NewCode()
				if err != nil {
					return err
				}
				if !taken[c] {
					m.Code, taken[c] = c, true
					break
				}
			}
			args[i] = string(m.Code)
		}
		rows, err := q.QueryContext(ctx, `SELECT code FROM members WHERE code IN (`+d.Placeholders(1, len(args))+`)`, args...)
		if err != nil {
			return fmt.Errorf("import codes: %w", err)
		}
		inUse := map[Code]bool{}
		for rows.Next() {
			var c Code
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			inUse[c] = true
		}
		rows.Close()
		var again []*Member
		for _, m := range pending {
			if inUse[m.Code] {
				again = append(again, m)
			}
		}
		pending = again
	}
	return nil
}

type consentRow struct {
	memberID, action, phone string
}

func insertConsents(ctx context.Context, conn *sql.Conn, q querier, d store.Dialect, cs []consentRow, source, version string, now time.Time) error {
	if conn != nil && len(cs) > 0 {
		err := store.CopyRows(ctx, conn, "consents", []string{"member_id", "channel", "action", "method", "source",
			"wording_version", "created_at", "phone"}, len(cs), func(i int) []any {
			c := cs[i]
			return []any{c.memberID, "sms", c.action, "import", source, version, now, store.NullString(c.phone)}
		})
		if err != nil {
			return fmt.Errorf("import consents: %w", err)
		}
		return nil
	}
	const perStmt = 1000
	for start := 0; start < len(cs); start += perStmt {
		part := cs[start:min(start+perStmt, len(cs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO consents (member_id, channel, action, method, source, wording_version, created_at, phone) VALUES `)
		args := make([]any, 0, len(part)*6)
		for i, c := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			p := strings.Split(d.Placeholders(len(args)+1, 6), ", ")
			fmt.Fprintf(&b, "(%s, 'sms', %s, 'import', %s, %s, %s, %s)", p[0], p[1], p[2], p[3], p[4], p[5])
			args = append(args, c.memberID, c.action, source, version, now, store.NullString(c.phone))
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("import consents: %w", err)
		}
	}
	return nil
}
