package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// counting is an Execer that counts the statements sent through it.
type counting struct {
	tx *sql.Tx
	n  int
}

func (c *counting) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.n++
	return c.tx.ExecContext(ctx, q, args...)
}

// TestInsertRows_CopiesOnlyInTheTransactionItWasGiven specifies InsertRows:
// every row goes in, in multi-row INSERTs of perStmt rows, except on
// PostgreSQL under WithCopy for the very transaction written to, where the
// rows go in as one COPY (the table's statement trigger fires once).
func TestInsertRows_CopiesOnlyInTheTransactionItWasGiven(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.W.ExecContext(ctx, `CREATE TABLE probe (a TEXT NOT NULL, b TEXT)`); err != nil {
			t.Fatal(err)
		}
		pg := db.Dialect == store.Postgres
		if pg {
			// Counts the statements that wrote to probe: COPY is one.
			for _, q := range []string{`CREATE TABLE probe_stmts (n INTEGER NOT NULL)`,
				`CREATE FUNCTION probe_count() RETURNS trigger LANGUAGE plpgsql AS
					$$ BEGIN INSERT INTO probe_stmts VALUES (1); RETURN NULL; END $$`,
				`CREATE TRIGGER probe_stmt AFTER INSERT ON probe FOR EACH STATEMENT EXECUTE FUNCTION probe_count()`} {
				if _, err := db.W.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		const rows, perStmt = 7, 3
		cases := []struct {
			name string
			// copyTx: which transaction WithCopy names ("" none, "same", "other")
			copyTx string
			// wrap: write through a counting Execer instead of the *sql.Tx
			wrap      bool
			wantStmts int // statements on probe (PostgreSQL: by the trigger)
		}{
			{"no WithCopy", "", true, 3},
			{"WithCopy for another transaction", "other", true, 3},
			{"WithCopy for this transaction", "same", false, map[bool]int{true: 1, false: 3}[pg]},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := db.ConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
					cctx := ctx
					switch c.copyTx {
					case "same":
						cctx = store.WithCopy(ctx, conn, tx)
					case "other":
						other, err := db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
						if err != nil {
							return err
						}
						defer other.Rollback()
						cctx = store.WithCopy(ctx, conn, other)
					}
					cw := &counting{tx: tx}
					var ex store.Execer = tx
					if c.wrap {
						ex = cw
					}
					err := store.InsertRows(cctx, ex, db.Dialect, "probe", []string{"a", "b"}, rows, perStmt, func(j int) []any {
						var b any // NULL in every other row
						if j%2 == 0 {
							b = fmt.Sprint(j)
						}
						return []any{fmt.Sprintf("%d-%d", i, j), b}
					})
					if err != nil {
						return err
					}
					if c.wrap && cw.n != c.wantStmts {
						t.Errorf("%d statements through the Execer, want %d", cw.n, c.wantStmts)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				var n, nulls int
				if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) - COUNT(b) FROM probe WHERE a LIKE $1`,
					fmt.Sprintf("%d-%%", i)).Scan(&n, &nulls); err != nil {
					t.Fatal(err)
				}
				if n != rows || nulls != rows/2 {
					t.Errorf("%d rows (%d NULL), want %d (%d NULL)", n, nulls, rows, rows/2)
				}
				if pg {
					var stmts int
					if err := db.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM probe_stmts`).Scan(&stmts); err != nil {
						t.Fatal(err)
					}
					if stmts != c.wantStmts {
						t.Errorf("%d statements wrote the rows, want %d", stmts, c.wantStmts)
					}
					if _, err := db.W.ExecContext(ctx, `DELETE FROM probe_stmts`); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	})
}
