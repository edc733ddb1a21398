package member

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
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

// markSynced brings into the subset the existing members a chunk's
// accepted rows named, by CRM id, that were not in it yet (the new ones were
// inserted marked). A member already in the subset is not written: an
// unchanged re-sync writes no member row (crm_sync keeps the id of the run
// that first named the member; EndFullSync compares CRM ids, not runs).
func markSynced(ctx context.Context, tx *sql.Tx, d store.Dialect, externalIDs []any, run string) error {
	if len(externalIDs) == 0 {
		return nil
	}
	args := append([]any{run}, externalIDs...)
	_, err := tx.ExecContext(ctx, `UPDATE members SET crm_sync = $1 WHERE crm_sync IS NULL AND external_id IN (`+
		d.Placeholders(2, len(externalIDs))+`)`, args...)
	if err != nil {
		return fmt.Errorf("crm sync: mark members: %w", err)
	}
	return nil
}

// SyncNames is the set of CRM ids a full sync's file names: every row's
// external_id, trimmed as the import cleans it, whether the row was
// accepted or not. A row rejected for a bad cell still says the CRM counts
// its member in the subset, so a full sync does not take that member out.
// It is rebuilt from the file on a resume (the rows before the cursor are
// read again), so it needs no storage of its own.
type SyncNames map[string]struct{}

// add records a row's CRM id.
func (n SyncNames) add(ext string) {
	if ext = strings.TrimSpace(ext); ext != "" {
		n[ext] = struct{}{}
	}
}

// Has reports whether the file named the CRM id.
func (n SyncNames) Has(ext string) bool {
	_, ok := n[ext]
	return ok
}

// leaveBatch is how many members leave the subset in one transaction.
const leaveBatch = 500

// EndFullSync takes out of the CRM subset every member of it whose CRM id
// the full sync's file did not name: their SubsetTag is removed and they
// no longer count as synced. Nobody is deleted or opted out. It returns how
// many left. then, if not nil, is called in each transaction with how many
// left in it, so that a job can count them exactly once across a restart;
// running EndFullSync again after an interruption takes out only those
// still in the subset.
func (s *Service) EndFullSync(ctx context.Context, named SyncNames, then func(tx *sql.Tx, left int) error) (int, error) {
	// First the ids of those who leave, read in pages by id (only id and
	// CRM id: the subset is the whole file, most of it named), then the
	// leaving in transactions of their own.
	var leaving []string
	after := ""
	for {
		rows, err := s.db.R.QueryContext(ctx, `SELECT id, external_id FROM members
			WHERE crm_sync IS NOT NULL AND id > $1 ORDER BY id LIMIT 10000`, after)
		if err != nil {
			return 0, fmt.Errorf("crm full sync: %w", err)
		}
		n := 0
		for rows.Next() {
			var id, ext string
			if err := rows.Scan(&id, &ext); err != nil {
				rows.Close()
				return 0, fmt.Errorf("crm full sync: %w", err)
			}
			n++
			after = id
			if !named.Has(ext) {
				leaving = append(leaving, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("crm full sync: %w", err)
		}
		if n == 0 {
			break
		}
	}
	left := 0
	d := s.db.Dialect
	for start := 0; start < len(leaving); start += leaveBatch {
		ids := leaving[start:min(start+leaveBatch, len(leaving))]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		n := 0
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			// crm_sync IS NOT NULL again: a member may have left (an
			// interrupted earlier run of this sync took them out) since
			// the read above.
			rows, err := tx.QueryContext(ctx, `SELECT `+memberColumns+` FROM members
				WHERE crm_sync IS NOT NULL AND id IN (`+d.Placeholders(1, len(args))+`)`, args...)
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
			var out []any
			for _, m := range ms {
				if named.Has(m.ExternalID) {
					continue // its CRM id changed to a named one meanwhile
				}
				out = append(out, m.ID)
				if m.Status == StatusErased || !slices.Contains(m.Tags, SubsetTag) {
					continue
				}
				m.Tags = slices.DeleteFunc(m.Tags, func(t string) bool { return t == SubsetTag })
				m.UpdatedAt = now
				if err := updateProfile(ctx, tx, m); err != nil {
					return err
				}
				events = append(events, change.Event{Type: change.MemberUpdated, MemberID: m.ID, ExternalID: &m.ExternalID,
					Data: map[string]any{"changed": []string{"tags"}}})
			}
			if len(out) > 0 {
				if _, err := tx.ExecContext(ctx, `UPDATE members SET crm_sync = NULL WHERE id IN (`+
					d.Placeholders(1, len(out))+`)`, out...); err != nil {
					return err
				}
			}
			n = len(out)
			if then != nil {
				if err := then(tx, n); err != nil {
					return err
				}
			}
			return s.record(ctx, tx, events...)
		})
		if err != nil {
			return left, fmt.Errorf("crm full sync: %w", err)
		}
		left += n
	}
	return left, nil
}
