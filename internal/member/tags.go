package member

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// EditTags adds and removes tags of the member in tx (an automation's step,
// in the transaction that records it), with the rules of a profile's tags
// (lower case, at most 50). It reports whether the tags changed; an erased
// or unknown member is left alone (false, nil), since there is no one to tag.
func EditTags(ctx context.Context, tx *sql.Tx, memberID string, add, remove []string, now time.Time) (bool, error) {
	var raw, status string
	err := tx.QueryRowContext(ctx, `SELECT tags, status FROM members WHERE id = $1`, memberID).Scan(&raw, &status)
	if errors.Is(err, sql.ErrNoRows) || status == "erased" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("edit tags of %s: %w", memberID, err)
	}
	var tags []string
	if err := json.Unmarshal([]byte(raw), &tags); err != nil {
		return false, fmt.Errorf("member %s tags: %w", memberID, err)
	}
	drop, err := cleanTags(remove)
	if err != nil {
		return false, err
	}
	next, err := cleanTags(append(slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return slices.Contains(drop, t) }), add...))
	if err != nil {
		return false, err
	}
	next = slices.DeleteFunc(next, func(t string) bool { return slices.Contains(drop, t) })
	if slices.Equal(next, tags) {
		return false, nil
	}
	b, _ := json.Marshal(next)
	if _, err := tx.ExecContext(ctx, `UPDATE members SET tags = $2, updated_at = $3 WHERE id = $1`, memberID, string(b), now.UTC()); err != nil {
		return false, fmt.Errorf("edit tags of %s: %w", memberID, err)
	}
	return true, nil
}
