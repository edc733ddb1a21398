package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

type copyKey struct{}

type copyConn struct {
	conn *sql.Conn
	tx   *sql.Tx
}

// WithCopy returns a context under which InsertRows on tx sends its rows
// with PostgreSQL's COPY through conn, the connection tx is on (ConnTx
// gives both). database/sql does not let code that holds only the *sql.Tx
// reach its connection, so a bulk writer (a file import) passes it down
// this way to the packages that add rows of their own to its transaction
// (the welcome SMS, the CRM feed) without their signatures changing.
func WithCopy(ctx context.Context, conn *sql.Conn, tx *sql.Tx) context.Context {
	if conn == nil || tx == nil {
		return ctx
	}
	return context.WithValue(ctx, copyKey{}, copyConn{conn, tx})
}

// Execer is what InsertRows writes through: a *sql.Tx, *sql.DB or *sql.Conn.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// InsertRows inserts n rows of cols into table through ex. When ctx comes
// from WithCopy for this very transaction it uses COPY, which the server
// reads with no statement to parse and no parameters to bind; otherwise
// multi-row INSERTs of at most perStmt rows (keep perStmt*len(cols) under
// SQLite's 32,766 and PostgreSQL's 65,535 parameters). row(i) gives row i's
// values in cols order. Either way every row is in, or an error.
func InsertRows(ctx context.Context, ex Execer, d Dialect, table string, cols []string, n, perStmt int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	if c, ok := ctx.Value(copyKey{}).(copyConn); ok && d == Postgres && any(c.tx) == any(ex) {
		return CopyRows(ctx, c.conn, table, cols, n, row)
	}
	head := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `
	for start := 0; start < n; start += perStmt {
		end := min(start+perStmt, n)
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString("(" + d.Placeholders(len(args)+1, len(cols)) + ")")
			args = append(args, row(i)...)
		}
		if _, err := ex.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert %s: %w", table, err)
		}
	}
	return nil
}

// CopyRows sends n rows of cols to table with PostgreSQL's COPY on conn,
// inside the transaction conn is in: the server reads them with no
// statement to parse and no parameters to bind, which is what bulk loading
// costs at its floor. row(i) gives row i's values in cols order. A unique
// violation comes back as from an INSERT, so callers map it the same way.
func CopyRows(ctx context.Context, conn *sql.Conn, table string, cols []string, n int, row func(i int) []any) error {
	return conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols,
			pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
		if err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
		return nil
	})
}
