package mart

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/report/figures"
)

// since returns the WHERE clause cond (which uses $1) and its argument when
// the export is incremental, nothing when it is full.
func (e *exporter) sinceWhere(cond string) (string, []any) {
	if e.since.IsZero() {
		return "", nil
	}
	return " WHERE " + cond, []any{e.since}
}

// transactionKey is a till transaction's key in the mart: store and
// transaction id, unique by the baskets table's constraint.
func transactionKey(storeID, txnID string) string { return storeID + "/" + txnID }

// contacts writes fact_contact: every outbound SMS. Incrementally, a
// message is exported again whenever something happened to it since: queued,
// claimed by a sender (send_after moves), sent or receipted.
func (e *exporter) contacts(ctx context.Context, emit func(Row) error) error {
	where, args := e.sinceWhere(`created_at >= $1 OR send_after >= $1 OR sent_at >= $1 OR delivered_at >= $1`)
	var (
		id, campaign, kind, purpose, status, state, held string
		member                                           sql.NullString
		segments, attempts                               int64
		created                                          time.Time
		sent, delivered                                  sql.NullTime
	)
	row := make(Row, len(FactContact.Columns))
	return e.each(ctx, `SELECT id, campaign_id, member_id, kind, purpose, status, delivery_state, held_reason,
		segments, attempts, created_at, sent_at, delivered_at FROM sms_outbox`+where+` ORDER BY id`, args,
		func(rs *sql.Rows) error {
			if err := rs.Scan(&id, &campaign, &member, &kind, &purpose, &status, &state, &held, &segments, &attempts,
				&created, &sent, &delivered); err != nil {
				return err
			}
			row[0], row[1], row[2], row[3] = Str(id), Str("sms"), Str(campaign), Str(e.pseudo.Key(member.String))
			row[4], row[5], row[6], row[7], row[8] = Str(purpose), Str(kind), Str(status), Str(state), Str(held)
			row[9], row[10] = Int64(segments), Int64(attempts)
			row[11], row[12], row[13] = At(created), NullAt(sent), NullAt(delivered)
			row[14] = Int64(dateKey(created))
			return emit(row)
		})
}

// Response types.
const (
	Click      = "click"
	Reply      = "reply"
	Redemption = "redemption"
	OptOut     = "opt_out"
)

// responses writes fact_response: clicks, inbound replies, redemptions and
// opt-outs, each type from its own table, in that order.
func (e *exporter) responses(ctx context.Context, emit func(Row) error) error {
	row := make(Row, len(FactResponse.Columns))
	put := func(id, typ string, at time.Time, member, campaign, message, txn string, value, points sql.NullInt64,
		detail string, restored sql.NullTime) error {
		row[0], row[1], row[2] = Str(typ+":"+id), Str(typ), At(at)
		row[3], row[4], row[5], row[6] = Str(e.pseudo.Key(member)), Str(campaign), Str(message), Str(txn)
		row[7], row[8], row[9], row[10] = NullInt(value), NullInt(points), Str(detail), NullAt(restored)
		row[11] = Int64(dateKey(at))
		return emit(row)
	}
	var (
		id, campaign, detail    string
		member, message         sql.NullString
		at                      time.Time
		none                    sql.NullInt64
		noTime                  sql.NullTime
		clickID, consentID      int64
		offer, store, txn       string
		discount, points        int64
		restored                sql.NullTime
		redemptionMember, cmMsg sql.NullString
	)

	where, args := e.sinceWhere(`c.clicked_at >= $1`)
	err := e.each(ctx, `SELECT c.id, c.clicked_at, COALESCE(c.member_id, l.member_id), l.campaign, l.message_id
		FROM link_clicks c JOIN short_links l ON l.code = c.code`+where+` ORDER BY c.id`, args, func(rs *sql.Rows) error {
		if err := rs.Scan(&clickID, &at, &member, &campaign, &message); err != nil {
			return err
		}
		return put(strconv.FormatInt(clickID, 10), Click, at, member.String, campaign, message.String, "", none, none, "", noTime)
	})
	if err != nil {
		return err
	}

	// Replies carry the keyword the router recognised ('' when none), never
	// the text, which is the shopper's own words.
	where, args = e.sinceWhere(`received_at >= $1`)
	err = e.each(ctx, `SELECT id, received_at, member_id, keyword FROM sms_inbox`+where+` ORDER BY id`, args, func(rs *sql.Rows) error {
		if err := rs.Scan(&id, &at, &member, &detail); err != nil {
			return err
		}
		return put(id, Reply, at, member.String, "", "", "", none, none, detail, noTime)
	})
	if err != nil {
		return err
	}

	// A redemption is exported again when a return or void restores it or
	// a return gives back part of its discount (value is net of returns).
	// Its message is the campaign's announcement to the member when the
	// launch recorded one (fixed audiences). A row that gave nothing (a free
	// gift from an empty pool) is no redemption (figures.Gave).
	where, args = e.sinceWhere(`(r.created_at >= $1 OR r.restored_at >= $1
		OR r.basket_id IN (SELECT basket_id FROM basket_returns WHERE created_at >= $1)) AND ` + figures.Gave)
	if where == "" {
		where = ` WHERE ` + figures.Gave
	}
	err = e.each(ctx, `SELECT r.basket_id, r.offer_id, r.created_at, r.member_id, r.campaign_id, cm.message_id, b.store_id,
		b.transaction_id, r.discount - r.discount_returned, r.points, r.kind, r.restored_at
		FROM redemptions r JOIN baskets b ON b.id = r.basket_id
		LEFT JOIN campaign_members cm ON cm.campaign_id = r.campaign_id AND cm.member_id = r.member_id`+where+`
		ORDER BY r.basket_id, r.offer_id`, args, func(rs *sql.Rows) error {
		if err := rs.Scan(&id, &offer, &at, &redemptionMember, &campaign, &cmMsg, &store, &txn, &discount, &points,
			&detail, &restored); err != nil {
			return err
		}
		return put(id+":"+offer, Redemption, at, redemptionMember.String, campaign, cmMsg.String, transactionKey(store, txn),
			sql.NullInt64{Int64: discount, Valid: true}, sql.NullInt64{Int64: points, Valid: true}, detail, restored)
	})
	if err != nil {
		return err
	}

	// Opt-outs are the withdrawals in the consent log, with how they came
	// (sms, web, api, import, pos; "erasure" for the withdrawal an erasure
	// records) and the campaign that prompted them.
	where, args = e.sinceWhere(`action = 'withdrawn' AND created_at >= $1`)
	if where == "" {
		where = ` WHERE action = 'withdrawn'`
	}
	return e.each(ctx, `SELECT id, created_at, member_id, campaign,
		CASE WHEN source = 'erasure' THEN 'erasure' ELSE method END FROM consents`+where+` ORDER BY id`, args,
		func(rs *sql.Rows) error {
			var mem string
			if err := rs.Scan(&consentID, &at, &mem, &campaign, &detail); err != nil {
				return err
			}
			return put(strconv.FormatInt(consentID, 10), OptOut, at, mem, campaign, "", "", none, none, detail, noTime)
		})
}

// basketsSince selects the baskets an incremental export includes: those
// committed, voided or with a return since.
const basketsSince = `b.created_at >= $1 OR b.voided_at >= $1 OR EXISTS (SELECT 1 FROM basket_returns r
	WHERE r.basket_id = b.id AND r.created_at >= $1)`

// transactions writes fact_transaction: one row per committed basket.
func (e *exporter) transactions(ctx context.Context, emit func(Row) error) error {
	where, args := e.sinceWhere(basketsSince)
	var (
		store, txn, terminal, currency, status      string
		member                                      sql.NullString
		created                                     time.Time
		voided                                      sql.NullTime
		gross, discount, pv, earned, redeemedPoints int64
	)
	row := make(Row, len(FactTransaction.Columns))
	return e.each(ctx, `SELECT b.store_id, b.transaction_id, b.terminal, b.member_id, b.currency, b.created_at, b.status,
		b.voided_at, b.gross, b.discount, b.points_value, b.points_earned, b.points_redeemed FROM baskets b`+where+`
		ORDER BY b.store_id, b.transaction_id`, args, func(rs *sql.Rows) error {
		if err := rs.Scan(&store, &txn, &terminal, &member, &currency, &created, &status, &voided, &gross, &discount,
			&pv, &earned, &redeemedPoints); err != nil {
			return err
		}
		row[0], row[1], row[2], row[3] = Str(transactionKey(store, txn)), Str(store), Str(txn), Str(terminal)
		row[4], row[5], row[6], row[7], row[8] = Str(e.pseudo.Key(member.String)), Str(currency), At(created), Str(status), NullAt(voided)
		row[9], row[10], row[11], row[12] = Int64(gross), Int64(discount), Int64(gross-discount), Int64(pv)
		row[13], row[14], row[15] = Int64(earned), Int64(redeemedPoints), Int64(dateKey(created))
		return emit(row)
	})
}

// lines writes fact_transaction_line for the same baskets as transactions.
func (e *exporter) lines(ctx context.Context, emit func(Row) error) error {
	where, args := e.sinceWhere(basketsSince)
	var (
		store, txn, sku, cats, unit                  string
		created                                      time.Time
		line, qty, price, discount, points, returned int64
		measure, measurePrice, returnedMeasure       int64
	)
	row := make(Row, len(FactTransactionLine.Columns))
	return e.each(ctx, `SELECT b.store_id, b.transaction_id, b.created_at, l.line, l.sku, l.categories, l.quantity,
		l.unit_price, l.discount, l.points, l.returned_qty, l.unit, l.measure, l.measure_price, l.returned_measure
		FROM baskets b JOIN basket_lines l ON l.basket_id = b.id`+where+`
		ORDER BY b.store_id, b.transaction_id, l.line`, args, func(rs *sql.Rows) error {
		if err := rs.Scan(&store, &txn, &created, &line, &sku, &cats, &qty, &price, &discount, &points, &returned,
			&unit, &measure, &measurePrice, &returnedMeasure); err != nil {
			return err
		}
		// A weighed line is stored as one unit at its value, its measure
		// beside it: the mart gives the measure exactly, in thousandths.
		if unit == "" {
			unit, measure, measurePrice, returnedMeasure = "each", qty*1000, price, returned*1000
		}
		list, err := joinJSONList(cats)
		if err != nil {
			return err
		}
		row[0], row[1], row[2], row[3] = Str(transactionKey(store, txn)), Int64(line), Str(sku), Str(list)
		row[4], row[5], row[6], row[7] = Int64(qty), Int64(price), Int64(qty*price), Int64(discount)
		row[8], row[9] = Int64(points), Int64(returned)
		row[10], row[11], row[12], row[13] = Str(unit), Int64(measure), Int64(measurePrice), Int64(returnedMeasure)
		row[14] = Int64(dateKey(created)) // every fact's last column
		return emit(row)
	})
}

// joinJSONList turns a stored JSON array of strings into one ;-separated
// string (a ; inside a value becomes a ,).
func joinJSONList(s string) (string, error) {
	if s == "" || s == "[]" {
		return "", nil
	}
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return "", err
	}
	return joinList(list), nil
}

func joinList(list []string) string {
	for i, v := range list {
		list[i] = strings.ReplaceAll(v, ";", ",")
	}
	return strings.Join(list, ";")
}
