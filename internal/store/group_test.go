package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestGroupCommit_UnitsShareTransactionsAndFailAlone: under GroupCommit
// many writers at once each get the answer of a transaction of their own
// (a unit that fails, by an error, a duplicate key or a panic, leaves
// nothing and the others stay), and on SQLite they share fewer commits than
// there are units.
func TestGroupCommit_UnitsShareTransactionsAndFailAlone(t *testing.T) {
	errRefused := errors.New("refused")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, err := db.W.Exec(`CREATE TABLE group_t (k TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		ctx := store.GroupCommit(context.Background())
		insert := func(tx *sql.Tx, k string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO group_t (k) VALUES ($1)`, k)
			return err
		}
		const n = 200
		// Unit i: i%10 == 3 writes then fails, i%10 == 5 writes a key
		// twice, i%10 == 7 writes then panics; the rest write k<i>.
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				defer func() {
					if p := recover(); p != nil {
						errs[i] = fmt.Errorf("panic: %v", p)
					}
				}()
				errs[i] = db.Tx(ctx, func(tx *sql.Tx) error {
					switch i % 10 {
					case 3:
						insert(tx, fmt.Sprint("x", i))
						return errRefused
					case 5:
						if err := insert(tx, fmt.Sprint("y", i)); err != nil {
							return err
						}
						return insert(tx, fmt.Sprint("y", i))
					case 7:
						insert(tx, fmt.Sprint("z", i))
						panic("boom")
					}
					return insert(tx, fmt.Sprint("k", i))
				})
			}()
		}
		close(start)
		wg.Wait()
		want := 0
		for i, err := range errs {
			switch i % 10 {
			case 3:
				if !errors.Is(err, errRefused) {
					t.Errorf("unit %d: %v, want its own error", i, err)
				}
			case 5:
				if _, ok := store.UniqueViolation(err); !ok {
					t.Errorf("unit %d: %v, want a unique violation", i, err)
				}
			case 7:
				if err == nil {
					t.Errorf("unit %d panicked and answered nil", i)
				}
			default:
				want++
				if err != nil {
					t.Errorf("unit %d: %v", i, err)
				}
			}
		}
		var got, strays int
		db.R.QueryRow(`SELECT COUNT(*) FROM group_t WHERE k LIKE 'k%'`).Scan(&got)
		db.R.QueryRow(`SELECT COUNT(*) FROM group_t WHERE k NOT LIKE 'k%'`).Scan(&strays)
		if got != want || strays != 0 {
			t.Fatalf("%d rows of successful units (want %d), %d rows of failed ones (want 0)", got, want, strays)
		}
		batches, units := db.GroupStats()
		t.Logf("%d units committed in %d batches", units, batches)
		if db.Dialect == store.SQLite && (units < int64(want) || batches >= units) {
			t.Fatalf("%d units committed in %d batches: want at least %d units in fewer batches", units, batches, want)
		}
	})
}

// TestGroupCommit_ACancelledWaiterLeavesNoBatchOpen: a unit that gives up
// waiting for the writer does not keep the others' batch from committing.
func TestGroupCommit_ACancelledWaiterLeavesNoBatchOpen(t *testing.T) {
	db := storetest.SQLite(t)
	if _, err := db.W.Exec(`CREATE TABLE group_c (k INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	ctx := store.GroupCommit(context.Background())
	inFirst, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Tx(ctx, func(tx *sql.Tx) error {
			close(inFirst)
			<-release
			_, err := tx.Exec(`INSERT INTO group_c (k) VALUES (1)`)
			return err
		})
	}()
	<-inFirst
	cctx, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		second <- db.Tx(cctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO group_c (k) VALUES (2)`)
			return err
		})
	}()
	// The second waits; the first, seeing it, would leave the batch open.
	for {
		var n int
		if err := db.R.QueryRow(`SELECT 1`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if store.GroupWaiting(db) > 0 {
			break
		}
	}
	close(release)
	cancel()
	if err := <-first; err != nil {
		t.Fatalf("first unit: %v", err)
	}
	<-second // either committed before the cancellation or gave up
	var n int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM group_c WHERE k = 1`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("first unit's row: %d (%v), want it committed", n, err)
	}
}
