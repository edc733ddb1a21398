package mart

// Kind is the type of a column: how it is written to CSV and which parquet
// type it gets.
type Kind int

// Column kinds. Every column may be NULL: an empty CSV field, a parquet null.
const (
	String Kind = iota // CSV text; parquet BYTE_ARRAY (UTF8)
	Int                // CSV decimal; parquet INT64
	Time               // CSV RFC 3339 in UTC, at most microseconds; parquet INT64 TIMESTAMP(MICROS, UTC)
	Date               // CSV YYYY-MM-DD; parquet INT32 DATE
	Bool               // CSV true/false; parquet BOOLEAN
)

func (k Kind) String() string {
	return [...]string{"string", "int", "timestamp", "date", "bool"}[k]
}

// Column is one column of a mart table.
type Column struct {
	Name string
	Kind Kind
}

// Table is a mart table: its name (also its file name) and columns in order.
type Table struct {
	Name    string
	Fact    bool
	Columns []Column
}

func cols(spec ...any) []Column {
	out := make([]Column, 0, len(spec)/2)
	for i := 0; i < len(spec); i += 2 {
		out = append(out, Column{Name: spec[i].(string), Kind: spec[i+1].(Kind)})
	}
	return out
}

// The tables, in the order they are written. docs/data-mart.md describes
// every column (a test checks that it names them all).
var (
	FactContact = Table{Name: "fact_contact", Fact: true, Columns: cols(
		"message_id", String, "channel", String, "campaign_id", String, "member_key", String,
		"purpose", String, "kind", String, "status", String, "delivery_state", String, "held_reason", String,
		"segments", Int, "attempts", Int, "created_at", Time, "sent_at", Time, "delivered_at", Time, "date_key", Int)}

	FactResponse = Table{Name: "fact_response", Fact: true, Columns: cols(
		"response_id", String, "response_type", String, "at", Time, "member_key", String, "campaign_id", String,
		"message_id", String, "transaction_key", String, "value", Int, "points", Int, "detail", String,
		"restored_at", Time, "date_key", Int)}

	FactTransaction = Table{Name: "fact_transaction", Fact: true, Columns: cols(
		"transaction_key", String, "store_id", String, "transaction_id", String, "terminal", String,
		"member_key", String, "currency", String, "created_at", Time, "status", String, "voided_at", Time,
		"gross", Int, "discount", Int, "net", Int, "points_value", Int, "points_earned", Int, "points_redeemed", Int,
		"date_key", Int)}

	FactTransactionLine = Table{Name: "fact_transaction_line", Fact: true, Columns: cols(
		"transaction_key", String, "line", Int, "sku", String, "categories", String, "quantity", Int,
		"unit_price", Int, "amount", Int, "discount", Int, "points", Int, "returned_qty", Int,
		"unit", String, "quantity_milli", Int, "unit_measure_price", Int, "returned_milli", Int, "date_key", Int)}

	DimMember = Table{Name: "dim_member", Columns: cols(
		"member_key", String, "status", String, "channel", String, "home_store", String, "timezone", String,
		"tags", String, "enrolled_at", Time, "enrolled_on", Date, "erased_at", Time)}

	DimCampaign = Table{Name: "dim_campaign", Columns: cols(
		"campaign_id", String, "name", String, "status", String, "starts_at", Time, "ends_at", Time,
		"timezone", String, "audience_kind", String, "control_group_percent", Int, "benefit_kinds", String,
		"stores", String, "priority", Int, "exclusive", Bool, "announced", Bool, "max_redemptions", Int,
		"budget", Int, "redemptions", Int, "discount_given", Int, "points_given", Int, "audience_size", Int,
		"control_size", Int, "created_at", Time, "launched_at", Time, "ended_reason", String)}

	DimChannel = Table{Name: "dim_channel", Columns: cols("channel", String, "name", String)}

	DimStore = Table{Name: "dim_store", Columns: cols("store_id", String, "name", String, "timezone", String, "created_at", Time)}

	DimDate = Table{Name: "dim_date", Columns: cols(
		"date_key", Int, "date", Date, "year", Int, "quarter", Int, "month", Int, "day", Int,
		"weekday", Int, "weekday_name", String, "iso_year", Int, "iso_week", Int)}
)

// Tables lists every table of the mart in the order an export writes them:
// facts first (they decide which dates dim_date covers), dim_date last.
var Tables = []Table{FactContact, FactResponse, FactTransaction, FactTransactionLine, FactReferral,
	DimMember, DimMemberProfile, DimCampaign, DimChannel, DimStore, DimDate}

// channels are the fixed rows of dim_channel: how members enrol and give or
// withdraw consent (member.Channel), and the channel of outbound contact.
var channels = [][2]string{
	{"sms", "SMS"},
	{"web", "Web sign-up form"},
	{"api", "API (CRM, app)"},
	{"import", "CRM file import"},
	{"pos", "Till (point of sale)"},
}
