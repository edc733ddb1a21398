package batch

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/outfile"
	"github.com/perk-platform/perk/internal/store"
)

// Manifest describes one offer export; it is written last, so a folder
// whose manifest is missing holds an unfinished export.
type Manifest struct {
	Store      string       `json:"store"` // "" = every store
	Format     Format       `json:"format"`
	Full       bool         `json:"full"`            // true: the files replace everything; false: a delta
	Since      string       `json:"since,omitempty"` // the cursor a delta started from
	Cursor     string       `json:"cursor"`          // pass as --since to the next export
	ExportedAt time.Time    `json:"exported_at"`
	Files      []ExportFile `json:"files"`
}

// ExportFile is one file of an export.
type ExportFile = outfile.Info

// pageSize is how many members one round of queries reads.
const pageSize = 2000

// Export writes the offer files (members' offers and the offers open to
// anonymous shoppers) and the manifest into opt.Dir. Memory holds one page
// of members whatever the programme's size. The files appear under their
// names only when complete.
func (e *Exporter) Export(ctx context.Context, opt ExportOptions) (*Manifest, error) {
	p, err := e.plan(ctx, opt)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Store: opt.Store, Format: opt.Format, Full: p.full, Since: opt.Since, Cursor: formatCursor(p.now), ExportedAt: p.now}
	members, err := outfile.Create(opt.Dir, "offers-"+p.scope, opt.Format, OfferColumns)
	if err != nil {
		return nil, err
	}
	defer members.Abort()
	anon, err := outfile.Create(opt.Dir, "anonymous-"+p.scope, opt.Format, OfferColumns)
	if err != nil {
		return nil, err
	}
	defer anon.Abort()
	for _, o := range p.anonymousOffers() {
		if err := anon.Write(&o); err != nil {
			return nil, err
		}
	}
	if err := e.eachMember(ctx, p, func(ms *memberState) error {
		action := "add"
		if !p.full {
			action = "replace"
		}
		offers := p.memberOffers(ms, e.policy, action)
		if len(offers) == 0 && !p.full {
			offers = []Offer{{Action: "remove", MemberCode: ms.code, Barcode: ms.code}}
		}
		for i := range offers {
			if err := members.Write(&offers[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, f := range []*outfile.File{members, anon} {
		info, err := f.Finish()
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, info)
	}
	if err := outfile.WriteManifest(opt.Dir, "manifest-"+p.scope+".json", m); err != nil {
		return nil, err
	}
	return m, nil
}

// eachMember reads members a page at a time (keyset on id), with their
// audiences, uses and balances read for the page's id range at once.
func (e *Exporter) eachMember(ctx context.Context, p *plan, fn func(*memberState) error) error {
	var changed []any // a delta's members, in id order
	if !p.full {
		ids, err := e.changedMembers(ctx, p.since)
		if err != nil {
			return err
		}
		changed = ids
	}
	after := ""
	for {
		var q string
		var a []any
		if p.full {
			q, a = `SELECT id, code FROM members WHERE status <> 'erased' AND id > $1 ORDER BY id LIMIT $2`, []any{after, pageSize}
		} else {
			if len(changed) == 0 {
				return nil
			}
			n := min(len(changed), pageSize)
			a, changed = changed[:n], changed[n:]
			q = `SELECT id, code FROM members WHERE status <> 'erased' AND id IN (` + e.db.Dialect.Placeholders(1, n) + `) ORDER BY id`
		}
		page, err := e.page(ctx, q, a)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			if p.full {
				return nil
			}
			continue
		}
		if err := e.fill(ctx, p, page); err != nil {
			return err
		}
		for _, ms := range page {
			if err := fn(ms); err != nil {
				return err
			}
		}
		if p.full && len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].id
	}
}

// changedMembers lists, in id order, the members whose offers may have
// changed since the time: each source read through its index on time
// (migration 0023), so a delta reads what changed, not the whole programme
// (a scan of every member made a delta of 1,000 baskets take seconds in a
// programme of 1,000,000). It holds only the changed members' ids.
func (e *Exporter) changedMembers(ctx context.Context, since time.Time) ([]any, error) {
	rows, err := e.db.R.QueryContext(ctx, `SELECT id FROM members WHERE updated_at > $1
		UNION SELECT member_id FROM offer_changes WHERE changed_at > $1
		UNION SELECT member_id FROM points_entries WHERE created_at > $1
		UNION SELECT member_id FROM baskets WHERE member_id IS NOT NULL AND created_at > $1
		UNION SELECT member_id FROM baskets WHERE member_id IS NOT NULL AND voided_at > $1
		UNION SELECT b.member_id FROM basket_returns r JOIN baskets b ON b.id = r.basket_id
			WHERE r.created_at > $1 AND b.member_id IS NOT NULL
		ORDER BY 1`, since)
	if err != nil {
		return nil, fmt.Errorf("changed members: %w", err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (e *Exporter) page(ctx context.Context, q string, args []any) ([]*memberState, error) {
	rows, err := e.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("export members: %w", err)
	}
	defer rows.Close()
	var out []*memberState
	for rows.Next() {
		ms := &memberState{audience: map[string]bool{}, uses: map[string]map[string]int64{}}
		if err := rows.Scan(&ms.id, &ms.code); err != nil {
			return nil, err
		}
		out = append(out, ms)
	}
	return out, rows.Err()
}

// fill reads the page's audiences, uses and balances: three range queries.
func (e *Exporter) fill(ctx context.Context, p *plan, page []*memberState) error {
	by := make(map[string]*memberState, len(page))
	for _, ms := range page {
		by[ms.id] = ms
	}
	// A full export's page is a run of ids: read its range. A delta's ids
	// are scattered over the programme: read them by key.
	first, last := page[0].id, page[len(page)-1].id
	cond, args := `member_id >= $1 AND member_id <= $2`, []any{first, last}
	if !p.full {
		args = make([]any, len(page))
		for i, ms := range page {
			args[i] = ms.id
		}
		cond = `member_id IN (` + e.db.Dialect.Placeholders(1, len(page)) + `)`
	}
	if p.fixed {
		if err := queryRange(ctx, e.db, `SELECT member_id, campaign_id, control FROM campaign_members WHERE `+cond,
			args, func(scan func(...any) error) error {
				var mid, cid string
				var control int
				if err := scan(&mid, &cid, &control); err != nil {
					return err
				}
				if ms := by[mid]; ms != nil {
					ms.audience[cid] = control == 1
				}
				return nil
			}); err != nil {
			return err
		}
	}
	if p.limited {
		if err := queryRange(ctx, e.db, `SELECT member_id, campaign_id, period, uses FROM offer_uses WHERE `+cond,
			args, func(scan func(...any) error) error {
				var mid, cid, period string
				var n int64
				if err := scan(&mid, &cid, &period, &n); err != nil {
					return err
				}
				if ms := by[mid]; ms != nil {
					if ms.uses[cid] == nil {
						ms.uses[cid] = map[string]int64{}
					}
					ms.uses[cid][period] = n
				}
				return nil
			}); err != nil {
			return err
		}
	}
	// The available balance, as ledger.Balance counts it.
	return queryRange(ctx, e.db, `SELECT member_id, CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_lots
		WHERE `+cond+` AND remaining > 0 AND available_at <= $`+strconv.Itoa(len(args)+1)+` AND (expires_at IS NULL OR expires_at > $`+strconv.Itoa(len(args)+1)+`)
		GROUP BY member_id`, append(args, p.now), func(scan func(...any) error) error {
		var mid string
		var n int64
		if err := scan(&mid, &n); err != nil {
			return err
		}
		if ms := by[mid]; ms != nil {
			ms.balance = n
		}
		return nil
	})
}

func queryRange(ctx context.Context, db *store.DB, q string, args []any, row func(scan func(...any) error) error) error {
	rows, err := db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("export offers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("export offers: %w", err)
		}
	}
	return rows.Err()
}
