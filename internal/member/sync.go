package member

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/store"
)

// SubsetTag marks the members of the retailer's CRM subset: the members a
// CRM sync named. Audiences select them with tags: [crm].
const SubsetTag = "crm"

// NewSyncRun returns the id of a new CRM sync run.
func NewSyncRun(now time.Time) string { return id.New("syn", now) }

// inSubset adds SubsetTag to a sync row's tags. The file's tags are the
// member's CRM segments and replace theirs; a row without tags keeps the
// member's own (an operator's "vip" is not the CRM's to drop).
func inSubset(p Profile, target *Member) Profile {
	tags := p.Tags
	if len(tags) == 0 && target != nil {
		tags = target.Tags
	}
	if !slices.Contains(tags, SubsetTag) {
		tags = append(slices.Clone(tags), SubsetTag)
	}
	p.Tags = tags
	return p
}

// markSynced records the run on the existing members a chunk's accepted
// rows named, by CRM id (the new ones were inserted with it).
func markSynced(ctx context.Context, tx *sql.Tx, d store.Dialect, externalIDs []any, run string) error {
	if len(externalIDs) == 0 {
		return nil
	}
	args := append([]any{run}, externalIDs...)
	_, err := tx.ExecContext(ctx, `UPDATE members SET crm_sync = $1 WHERE external_id IN (`+d.Placeholders(2, len(externalIDs))+`)`, args...)
	if err != nil {
		return fmt.Errorf("crm sync: mark members: %w", err)
	}
	return nil
}

// EndFullSync takes out of the CRM subset every member of it that the sync
// run did not name: their SubsetTag is removed and they no longer count as
// synced. Nobody is deleted or opted out. It returns how many left.
func (s *Service) EndFullSync(ctx context.Context, run string) (int, error) {
	left := 0
	for {
		n := 0
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT `+memberColumns+` FROM members
				WHERE crm_sync IS NOT NULL AND crm_sync <> $1 ORDER BY id LIMIT 500`, run)
			if err != nil {
				return err
			}
			var ms []*Member
			for rows.Next() {
				m, err := scanMember(rows)
				if err != nil {
					rows.Close()
					return err
				}
				ms = append(ms, m)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			now := nowUTC(s.opt.Now)
			var events []change.Event
			for _, m := range ms {
				m.Tags = slices.DeleteFunc(m.Tags, func(t string) bool { return t == SubsetTag })
				m.UpdatedAt = now
				if m.Status != StatusErased {
					if err := updateProfile(ctx, tx, m); err != nil {
						return err
					}
					events = append(events, change.Event{Type: change.MemberUpdated, MemberID: m.ID, ExternalID: &m.ExternalID,
						Data: map[string]any{"changed": []string{"tags"}}})
				}
				if _, err := tx.ExecContext(ctx, `UPDATE members SET crm_sync = NULL WHERE id = $1`, m.ID); err != nil {
					return err
				}
			}
			n = len(ms)
			return s.record(ctx, tx, events...)
		})
		if err != nil {
			return left, fmt.Errorf("crm full sync: %w", err)
		}
		left += n
		if n == 0 {
			return left, nil
		}
	}
}
