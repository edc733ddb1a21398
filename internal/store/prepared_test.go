package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestPreparedReadsAnswerLikeThePool(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'One', 'UTC', CURRENT_TIMESTAMP), ('S2', 'Two', 'UTC', CURRENT_TIMESTAMP)`); err != nil {
			t.Fatal(err)
		}
		const q = `SELECT name FROM stores WHERE id = $1`
		var wg sync.WaitGroup
		for i := range 40 { // more callers than connections: statements are shared
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, want := "S1", "One"
				if i%2 == 1 {
					id, want = "S2", "Two"
				}
				var got string
				if err := db.Read.QueryRowContext(ctx, q, id).Scan(&got); err != nil || got != want {
					t.Errorf("store %s: %q, %v", id, got, err)
				}
			}()
		}
		wg.Wait()
		rows, err := db.Read.QueryContext(ctx, `SELECT id FROM stores ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != 2 {
			t.Fatalf("%d rows", n)
		}
		var x string
		if err := db.Read.QueryRowContext(ctx, `SELECT nope FROM stores`).Scan(&x); err == nil {
			t.Fatal("a bad query gave no error")
		}
		if _, err := db.Read.QueryContext(ctx, `SELECT nope FROM stores`); err == nil {
			t.Fatal("a bad query gave no error")
		}
	})
}
