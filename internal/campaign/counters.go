package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// A campaign's total limit (max_redemptions) and budget are counted in
// campaign_counter_shards rather than on its campaigns row: on PostgreSQL a
// counter on one row serialised every till redeeming the campaign on that
// row's lock, held until each commit ended (issue 15). The limit is split
// into allotments, one per shard, that always sum to the limit; a commit
// takes from one shard whose allotment covers it, so the shards' total use
// never passes the limit however many commits run at once (escrow).
//
// The rules that make it exact:
//   - A take on PostgreSQL locks one shard, the first free one from a
//     random start (SKIP LOCKED), and never leaves that shard with nothing
//     left: the last of each shard is taken only under the lock of every
//     shard of the campaign (rebalance), in shard order.
//   - A transaction waits for a shard only in shard order, holding no
//     shard of that campaign above it, so two never wait for each other.
//     The SKIP LOCKED take never waits but may keep the lock of a row it
//     looked at and passed over (PostgreSQL keeps the lock of a row that a
//     concurrent update made fail the condition), so when it finds nothing
//     the commit starts again and takes carefully: it waits for the first
//     shard with room in shard order, and only if none has room locks them
//     all. A careful take holds one shard, not all, or careful commits would
//     make the quick takes of the next ones fail in turn (seen: a convoy at
//     2.3 attempts a commit). So the take that
//     uses the campaign's last redemption or the last of its budget sees the
//     exact total and ends the campaign, once.
//   - The rebalance pools what is left and hands it out again, over all the
//     shards while there is plenty, over one when little is left, so a large
//     discount finds a shard that covers it whenever the total does.
//   - The limits are read after the shard locks are held, and Update takes
//     the shard locks before it writes the new limits: a rebalance never
//     splits an old limit.
//   - A campaign's shards are made by its first take (or change of
//     limits), as many as that server counts, by a transaction holding no
//     shard; servers configured with another count take from those. A
//     read that locks them all begins once shard 0 is held, so it sees
//     every shard another server's first take made and allotted while it
//     waited.
//   - Going over the limit (a redemption the till gave anyway, a limit
//     lowered below the use) leaves the whole deficit on shard 0, and a
//     return gives back to shard 0, so no shard has room while the total
//     has none.
//
// SQLite has one writer, so sharding buys nothing there: it keeps one
// shard, taken by one conditional update as before.

// CountersSQL is the one definition of a campaign's counted redemptions,
// discount given and points given (those taken against its total limit or
// budget): the sums over its shards, as three columns of a campaign row
// read FROM campaigns (unaliased).
const CountersSQL = `COALESCE((SELECT SUM(k.redemptions_used) FROM campaign_counter_shards k WHERE k.campaign_id = campaigns.id), 0),
	COALESCE((SELECT SUM(k.discount_used) FROM campaign_counter_shards k WHERE k.campaign_id = campaigns.id), 0),
	COALESCE((SELECT SUM(k.points_given) FROM campaign_counter_shards k WHERE k.campaign_id = campaigns.id), 0)`

// DefaultCounterShards is how many shards a limited campaign's counters
// are spread over on PostgreSQL unless Options.CounterShards says.
const DefaultCounterShards = 16

// Counters are a campaign's counted totals, the sums over its shards.
type Counters struct {
	Redemptions, Discount, Points int64
}

// ReadCounters reads a campaign's counted totals (CountersSQL).
func ReadCounters(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, cid string) (Counters, error) {
	var c Counters
	err := q.QueryRowContext(ctx, `SELECT `+CountersSQL+` FROM campaigns WHERE id = $1`, cid).Scan(&c.Redemptions, &c.Discount, &c.Points)
	if err != nil {
		return c, fmt.Errorf("campaign counters: %w", err)
	}
	return c, nil
}

// testHookShardRead, when a test sets it, runs after each of lockShards'
// reads (the n-th, for a server counting over shards shards), so the test
// can order other takes around it.
var testHookShardRead func(cid string, shards, n int)

// counterShards is how many shards a campaign's counters get here.
func (s *Service) counterShards() int {
	if s.db.Dialect != store.Postgres {
		return 1
	}
	if s.opt.CounterShards > 0 {
		return s.opt.CounterShards
	}
	return DefaultCounterShards
}

// Take is the outcome of counting one redemption against a campaign's
// total limit and budget.
type Take struct {
	// Refused is set when the redemption does not fit: the limit is used
	// up (LimitUsed), the budget cannot cover the discount, or the campaign
	// is no longer taking (not active).
	Refused   bool
	LimitUsed bool
	// Ended is set when this redemption used the last of the limit or the
	// budget and so ended the campaign.
	Ended bool
}

// TakeMode is how TakeTotals looks for room among a campaign's counter
// shards on PostgreSQL. A commit starts quick and is sent one step further
// by ErrTakeCarefully or ErrTakeAll, each time in a new transaction.
type TakeMode int

const (
	// TakeQuick takes from the first shard with room that nobody holds,
	// never waiting and never using a shard's last unit.
	TakeQuick TakeMode = iota
	// TakeCareful waits for the first shard with room in shard order.
	TakeCareful
	// TakeAll locks every shard in shard order and takes under the exact
	// total, rebalancing what is left.
	TakeAll
)

// ErrTakeCarefully asks the caller of TakeTotals to roll its transaction
// back and take again with TakeCareful: the quick take found no free shard
// with room and may hold locks that make waiting unsafe.
var ErrTakeCarefully = errors.New("campaign counters: take again carefully")

// ErrTakeAll asks the caller of TakeTotals to roll its transaction back and
// take again with TakeAll: the careful take found no shard with room, and
// the shards it waited for and passed over stay locked to the end of its
// transaction, so locking every shard from there could deadlock with
// another commit doing the same.
var ErrTakeAll = errors.New("campaign counters: take again under every shard's lock")

// TakeTotals counts one redemption of campaign cid (discount and points)
// against its total limit and budget inside the commit's transaction tx.
// The caller skips campaigns with neither, and takes its campaigns in id
// order. A refusal changes nothing. On PostgreSQL a quick take may return
// ErrTakeCarefully and a careful one ErrTakeAll; a commit holding nothing
// of the campaign's shards then locks them all in order, so no two takes
// of one campaign wait for each other in a cycle.
func (s *Service) TakeTotals(ctx context.Context, tx *sql.Tx, cid string, discount, points int64, now time.Time, mode TakeMode) (Take, error) {
	if s.db.Dialect != store.Postgres {
		return s.takeOne(ctx, tx, cid, discount, points, now)
	}
	start := rand.IntN(s.counterShards())
	if mode == TakeAll {
		return s.takeRebalance(ctx, tx, cid, discount, points, start, now)
	}
	careful := mode == TakeCareful
	// Quickly: the first shard with room that nobody holds, from a random
	// start. Carefully: wait for the first shard with room in shard order
	// (holding only shards below it, if any), which is safe; and holding one
	// shard, not all, so a careful commit does not make the next ones fail
	// their quick take in turn.
	order, lock := `shard < $4, shard`, `FOR UPDATE SKIP LOCKED`
	if careful {
		order, lock = `shard + 0 * $4`, `FOR UPDATE`
	}
	err := tx.QueryRowContext(ctx, `UPDATE campaign_counter_shards SET redemptions_used = redemptions_used + 1,
		discount_used = discount_used + $2, points_given = points_given + $3
		WHERE campaign_id = $1 AND shard = (SELECT shard FROM campaign_counter_shards
			WHERE campaign_id = $1 AND (redemptions_allot IS NULL OR redemptions_used + 1 < redemptions_allot)
			AND (budget_allot IS NULL OR discount_used + $2 < budget_allot)
			ORDER BY `+order+` LIMIT 1 `+lock+`)
		AND EXISTS (SELECT 1 FROM campaigns WHERE id = $1 AND status IN ('active', 'scheduled'))
		RETURNING shard`, cid, discount, points, start).Scan(new(int))
	if err == nil {
		return Take{}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Take{}, fmt.Errorf("take campaign limit: %w", err)
	}
	if careful {
		return Take{}, ErrTakeAll
	}
	return Take{}, ErrTakeCarefully
}

// takeOne is TakeTotals on SQLite: one shard, one writer, so the
// conditional update sees the exact total and may use the last of it.
func (s *Service) takeOne(ctx context.Context, tx *sql.Tx, cid string, discount, points int64, now time.Time) (Take, error) {
	var redLeft, budLeft sql.NullInt64
	err := tx.QueryRowContext(ctx, `UPDATE campaign_counter_shards SET redemptions_used = redemptions_used + 1,
		discount_used = discount_used + $2, points_given = points_given + $3
		WHERE campaign_id = $1 AND shard = 0 AND (redemptions_allot IS NULL OR redemptions_used < redemptions_allot)
		AND (budget_allot IS NULL OR discount_used + $2 <= budget_allot)
		AND EXISTS (SELECT 1 FROM campaigns WHERE id = $1 AND status IN ('active', 'scheduled'))
		RETURNING redemptions_allot - redemptions_used, budget_allot - discount_used`, cid, discount, points).Scan(&redLeft, &budLeft)
	if errors.Is(err, sql.ErrNoRows) {
		// No shard yet (a campaign that never took), more than one, or a
		// refusal: the full path decides.
		return s.takeRebalance(ctx, tx, cid, discount, points, 0, now)
	}
	if err != nil {
		return Take{}, fmt.Errorf("take campaign limit: %w", err)
	}
	reason := endReason(redLeft.Valid && redLeft.Int64 <= 0, budLeft.Valid && budLeft.Int64 <= 0)
	if reason == "" {
		return Take{}, nil
	}
	return Take{Ended: true}, s.endByLimit(ctx, tx, cid, reason, now)
}

func endReason(limit, budget bool) string {
	switch {
	case limit:
		return "redemption limit reached"
	case budget:
		return "budget spent"
	}
	return ""
}

// shard is one row of campaign_counter_shards, locked.
type shard struct {
	n                  int
	redAllot, budAllot sql.NullInt64
	redUsed, discUsed  int64
}

// limits are a campaign's status and total limits as stored.
type limits struct {
	status          string
	maxRed, budget  sql.NullInt64
	hasMax, hasBudg bool
}

// lockShards locks every counter shard of campaign cid in shard order,
// making n of them first if it has none, and reads the campaign's limits
// once they are held.
func (s *Service) lockShards(ctx context.Context, tx *sql.Tx, cid string, n int) ([]shard, limits, error) {
	var lim limits
	lock := ""
	if s.db.Dialect == store.Postgres {
		lock = ` FOR UPDATE`
	}
	reads := 0
	read := func() ([]shard, error) {
		rows, err := tx.QueryContext(ctx, `SELECT shard, redemptions_allot, budget_allot, redemptions_used, discount_used
			FROM campaign_counter_shards WHERE campaign_id = $1 ORDER BY shard`+lock, cid)
		if err != nil {
			return nil, fmt.Errorf("lock campaign counters: %w", err)
		}
		defer rows.Close()
		var out []shard
		for rows.Next() {
			var sh shard
			if err := rows.Scan(&sh.n, &sh.redAllot, &sh.budAllot, &sh.redUsed, &sh.discUsed); err != nil {
				return nil, err
			}
			out = append(out, sh)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if reads++; testHookShardRead != nil {
			testHookShardRead(cid, n, reads)
		}
		return out, nil
	}
	shards, err := read()
	if err != nil {
		return nil, lim, err
	}
	made := len(shards) == 0 && n > 0
	if made {
		// The campaign's first take (or change of limits) makes its
		// shards, as many as this server counts, with nothing allotted:
		// the rebalance that follows hands them their share. Only a
		// transaction holding no shard makes any: one that held some and
		// made more could wait for another's new shards while that one
		// waits for the shards it holds (deadlocks seen with servers of
		// 1, 4, 7 and 16 shards taking from a new campaign,
		// TestCounters_ServersWithDifferentShardCountsShareOneCampaign).
		// So a campaign keeps the shards its first takes made, and a
		// server configured with more or fewer takes from those.
		args := make([]any, 0, 4*n)
		for i := range n {
			args = append(args, cid, i, 0, 0)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_counter_shards (campaign_id, shard, redemptions_allot, budget_allot)
			VALUES `+store.Values(n, 4)+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return nil, lim, fmt.Errorf("make campaign counter shards: %w", err)
		}
	}
	switch {
	case s.db.Dialect == store.Postgres:
		// A locking read sees only the shards committed when it began, yet
		// it may wait for a transaction that made more (two first takes
		// of servers with different counts: the one that waited for the
		// other's shard 0 makes the rest) and allotted them part of the
		// limits; counting without them allots that part a second time
		// (TestTwoServersNeverOverspendOneCampaign, 16 and 4 shards;
		// TestCounters_ShardsMadeWhileAReadWaitsAreCounted). Every
		// transaction that allots holds shard 0 to its end, so a read that
		// begins while this one already holds shard 0 sees every shard
		// with anything allotted and locks them all. Shards made after it
		// hold nothing until their maker, holding shard 0 after this
		// transaction ends, allots them.
		for {
			held := len(shards) > 0 && shards[0].n == 0
			if shards, err = read(); err != nil {
				return nil, lim, err
			}
			if held {
				break
			}
		}
	case made:
		// SQLite has one writer: what this transaction made is all there is.
		if shards, err = read(); err != nil {
			return nil, lim, err
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT status, max_redemptions, budget FROM campaigns WHERE id = $1`, cid).Scan(&lim.status, &lim.maxRed, &lim.budget)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lim, ErrNotFound
	}
	if err != nil {
		return nil, lim, fmt.Errorf("campaign limits: %w", err)
	}
	lim.hasMax, lim.hasBudg = lim.maxRed.Valid && lim.maxRed.Int64 > 0, lim.budget.Valid && lim.budget.Int64 > 0
	return shards, lim, nil
}

// takeRebalance takes under the lock of every shard: it sees the exact
// total left, takes from shard start, ends the campaign if this used the
// last of a limit, and hands out again what is left.
func (s *Service) takeRebalance(ctx context.Context, tx *sql.Tx, cid string, discount, points int64, start int, now time.Time) (Take, error) {
	shards, lim, err := s.lockShards(ctx, tx, cid, s.counterShards())
	if err != nil {
		return Take{}, err
	}
	var used, given int64
	for _, sh := range shards {
		used += sh.redUsed
		given += sh.discUsed
	}
	redLeft, budLeft := lim.maxRed.Int64-used, lim.budget.Int64-given
	switch {
	case lim.status != string(Active) && lim.status != string(Scheduled):
		return Take{Refused: true}, nil
	case lim.hasMax && redLeft < 1:
		return Take{Refused: true, LimitUsed: true}, nil
	case lim.hasBudg && budLeft < discount:
		return Take{Refused: true}, nil
	}
	at := 0
	for i, sh := range shards {
		if sh.n == start {
			at = i
		}
	}
	shards[at].redUsed++
	shards[at].discUsed += discount
	if _, err := tx.ExecContext(ctx, `UPDATE campaign_counter_shards SET redemptions_used = redemptions_used + 1,
		discount_used = discount_used + $3, points_given = points_given + $4 WHERE campaign_id = $1 AND shard = $2`,
		cid, shards[at].n, discount, points); err != nil {
		return Take{}, fmt.Errorf("take campaign limit: %w", err)
	}
	if err := s.reallot(ctx, tx, cid, shards, lim, at, discount); err != nil {
		return Take{}, err
	}
	reason := endReason(lim.hasMax && redLeft == 1, lim.hasBudg && budLeft == discount)
	if reason == "" {
		return Take{}, nil
	}
	return Take{Ended: true}, s.endByLimit(ctx, tx, cid, reason, now)
}

// TakeTotalsAnyway counts a redemption the till gave whatever the limits
// (a given offer): past the limit and the budget too. It returns the
// campaign's counted redemptions and discount after it, and ends the
// campaign when this reached a limit while it was taking.
func (s *Service) TakeTotalsAnyway(ctx context.Context, tx *sql.Tx, cid string, discount, points int64, now time.Time) (redemptions, given int64, err error) {
	shards, lim, err := s.lockShards(ctx, tx, cid, s.counterShards())
	if err != nil {
		return 0, 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE campaign_counter_shards SET redemptions_used = redemptions_used + 1,
		discount_used = discount_used + $2, points_given = points_given + $3 WHERE campaign_id = $1 AND shard = 0`,
		cid, discount, points); err != nil {
		return 0, 0, fmt.Errorf("count given redemption: %w", err)
	}
	shards[0].redUsed++
	shards[0].discUsed += discount
	for _, sh := range shards {
		redemptions += sh.redUsed
		given += sh.discUsed
	}
	if err := s.reallot(ctx, tx, cid, shards, lim, 0, discount); err != nil {
		return 0, 0, err
	}
	reason := endReason(lim.hasMax && redemptions >= lim.maxRed.Int64, lim.hasBudg && given >= lim.budget.Int64)
	if reason != "" && (lim.status == string(Active) || lim.status == string(Scheduled)) {
		if err := s.endByLimit(ctx, tx, cid, reason, now); err != nil {
			return 0, 0, err
		}
	}
	return redemptions, given, nil
}

// GiveBack returns what a return or void frees of a campaign's counted
// totals: one redemption (restored), a discount refunded and the points.
// It gives back to shard 0, so a deficit left there by going over a limit
// is paid off before any other shard gains room. A campaign without limits
// counts nothing and gives back nothing.
func (s *Service) GiveBack(ctx context.Context, tx *sql.Tx, cid string, redemptions, discount, points int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE campaign_counter_shards SET redemptions_used = redemptions_used - $2,
		discount_used = discount_used - $3, points_given = points_given - $4
		WHERE campaign_id = $1 AND shard = 0
		AND EXISTS (SELECT 1 FROM campaigns WHERE id = $1 AND (budget IS NOT NULL OR max_redemptions IS NOT NULL))`,
		cid, redemptions, discount, points); err != nil {
		return fmt.Errorf("release campaign: %w", err)
	}
	return nil
}

// reallotLimits hands a campaign's limits out again over its shards, for
// Update when the limits change: called before the new limits are written
// (locking the shards first, the order every taker keeps), then fn writes
// them, then the allotments follow them.
func (s *Service) reallotLimits(ctx context.Context, tx *sql.Tx, cid string, write func() error) error {
	shards, _, err := s.lockShards(ctx, tx, cid, s.counterShards())
	if err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	_, lim, err := s.lockShards(ctx, tx, cid, 0)
	if err != nil {
		return err
	}
	return s.reallot(ctx, tx, cid, shards, lim, 0, 1)
}

// reallot sets the allotments of the locked shards so they sum to the
// limits: what is left goes over all shards while there is plenty (at least
// four takes of size unit each), over fewer as it runs out, starting at
// shard at; a deficit stays on shard 0.
func (s *Service) reallot(ctx context.Context, tx *sql.Tx, cid string, shards []shard, lim limits, at int, unit int64) error {
	var used, given int64
	for _, sh := range shards {
		used += sh.redUsed
		given += sh.discUsed
	}
	k := int64(len(shards))
	if lim.hasMax {
		k = min(k, (lim.maxRed.Int64-used)/4)
	}
	if lim.hasBudg {
		k = min(k, (lim.budget.Int64-given)/(4*max(unit, 1)))
	}
	k = max(k, 1)
	red := split(lim.hasMax, lim.maxRed.Int64-used, shards, at, k)
	bud := split(lim.hasBudg, lim.budget.Int64-given, shards, at, k)
	for i, sh := range shards {
		r, b := nullAdd(red[i], sh.redUsed), nullAdd(bud[i], sh.discUsed)
		if r == sh.redAllot && b == sh.budAllot {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_counter_shards SET redemptions_allot = $3, budget_allot = $4
			WHERE campaign_id = $1 AND shard = $2`, cid, sh.n, r, b); err != nil {
			return fmt.Errorf("allot campaign counters: %w", err)
		}
	}
	return nil
}

// split shares left over k of the shards starting at index at (each room
// is left[i], to be added to the shard's use); a negative left is all on
// the first shard. Without the limit every room is NULL (no limit).
func split(has bool, left int64, shards []shard, at int, k int64) []sql.NullInt64 {
	out := make([]sql.NullInt64, len(shards))
	if !has {
		return out
	}
	for i := range out {
		out[i].Valid = true
	}
	if left <= 0 {
		out[0].Int64 = left
		return out
	}
	each, extra := left/k, left%k
	for j := range k {
		i := (at + int(j)) % len(shards)
		out[i].Int64 = each
		if j < extra {
			out[i].Int64++
		}
	}
	return out
}

func nullAdd(room sql.NullInt64, used int64) sql.NullInt64 {
	if !room.Valid {
		return room
	}
	return sql.NullInt64{Int64: room.Int64 + used, Valid: true}
}

// endByLimit ends a campaign whose total limit or budget is used up.
func (s *Service) endByLimit(ctx context.Context, tx *sql.Tx, cid, reason string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'ended', ended_reason = $2, version = version + 1, updated_at = $3
		WHERE id = $1 AND status IN ('active', 'scheduled')`, cid, reason, now); err != nil {
		return fmt.Errorf("end campaign: %w", err)
	}
	return nil
}
