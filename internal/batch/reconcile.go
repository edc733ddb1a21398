package batch

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/tabular"
)

// Breach is one row of the reconciliation report: a rule an offer given
// offline broke, on which sale, with the amount at stake.
type Breach struct {
	At            time.Time `json:"at"`
	Store         string    `json:"store"`
	TransactionID string    `json:"transaction_id"`
	Member        string    `json:"member,omitempty"` // the member's code
	OfferID       string    `json:"offer_id"`
	Campaign      string    `json:"campaign,omitempty"` // its name
	Rule          string    `json:"rule"`
	Detail        string    `json:"detail"`
	Amount        int64     `json:"amount"`
}

// ReconciliationColumns are the reconciliation report's CSV columns.
var ReconciliationColumns = []string{"time", "store", "transaction_id", "member", "offer_id", "campaign", "rule", "detail", "amount"}

// EachBreach calls fn for every breach of sales at or after since, oldest
// first, streaming from the database.
func EachBreach(ctx context.Context, db *store.DB, since time.Time, fn func(Breach) error) error {
	rows, err := db.R.QueryContext(ctx, `SELECT r.created_at, r.store_id, r.transaction_id, COALESCE(m.code, ''), r.offer_id,
		COALESCE(c.name, ''), r.rule, r.detail, r.amount FROM reconciliation r
		LEFT JOIN members m ON m.id = r.member_id LEFT JOIN campaigns c ON c.id = r.campaign_id
		WHERE r.created_at >= $1 ORDER BY r.created_at, r.id`, since.UTC())
	if err != nil {
		return fmt.Errorf("reconciliation: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b Breach
		var code sql.NullString
		if err := rows.Scan(&b.At, &b.Store, &b.TransactionID, &code, &b.OfferID, &b.Campaign, &b.Rule, &b.Detail, &b.Amount); err != nil {
			return fmt.Errorf("reconciliation: %w", err)
		}
		b.Member, b.At = code.String, b.At.UTC()
		if err := fn(b); err != nil {
			return err
		}
	}
	return rows.Err()
}

// WriteReconciliation writes the reconciliation report as CSV and returns
// how many breaches it lists.
func WriteReconciliation(ctx context.Context, db *store.DB, since time.Time, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(ReconciliationColumns); err != nil {
		return 0, err
	}
	n := 0
	err := EachBreach(ctx, db, since, func(b Breach) error {
		n++
		return cw.Write(tabular.DefuseAll([]string{b.At.Format(time.RFC3339), b.Store, b.TransactionID, b.Member, b.OfferID, b.Campaign, b.Rule,
			b.Detail, strconv.FormatInt(b.Amount, 10)}))
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}
