package member

import (
	"errors"
	"strings"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/tabular"
)

// columnAliases maps the header names CRM exports use (after tabular's
// normalisation) to Perk's fields. Anything else becomes an attribute.
var columnAliases = map[string]string{
	"phone": "phone", "mobile": "phone", "msisdn": "phone", "phone_number": "phone", "mobile_number": "phone",
	"mobile_phone": "phone", "cell": "phone", "telephone": "phone",
	"first_name": "first_name", "firstname": "first_name", "given_name": "first_name", "forename": "first_name",
	"last_name": "last_name", "lastname": "last_name", "surname": "last_name", "family_name": "last_name",
	"email": "email", "e_mail": "email", "email_address": "email",
	"birthday": "birthday", "dob": "birthday", "date_of_birth": "birthday", "birth_date": "birthday",
	"home_store": "home_store", "store": "home_store", "store_id": "home_store",
	"external_id": "external_id", "crm_id": "external_id", "customer_id": "external_id", "customer_number": "external_id",
	"timezone": "timezone", "time_zone": "timezone",
	"locale": "locale", "language": "locale", "lang": "locale",
	"tags":    "tags",
	"consent": "consent", "sms_consent": "consent", "sms_opt_in": "consent", "opt_in": "consent", "marketing_sms": "consent",
}

// columnMap says where each column of one file goes.
type columnMap struct {
	fields map[string]int // Perk field -> column index
	attrs  map[string]int // attribute key -> column index
	header []string       // the file's normalised header names
}

func newColumnMap(header []string) (*columnMap, error) {
	cm := &columnMap{fields: map[string]int{}, attrs: map[string]int{}, header: header}
	for i, h := range header {
		if f, ok := columnAliases[h]; ok {
			if j, dup := cm.fields[f]; dup {
				return nil, &tabular.HeaderError{Columns: []string{header[j], h}, Reason: "columns " + header[j] + " and " + h + " both mean " + f}
			}
			cm.fields[f] = i
			continue
		}
		if h != "" {
			cm.attrs[h] = i
		}
	}
	if _, ok := cm.fields["phone"]; !ok {
		if _, ok := cm.fields["external_id"]; !ok {
			return nil, &tabular.HeaderError{Reason: "no phone column (or external_id column to match existing members)"}
		}
	}
	return cm, nil
}

// importRow is one cleaned row of a member file.
type importRow struct {
	row     int
	profile Profile
	consent *bool // nil when the file says nothing
}

func (cm *columnMap) get(rec tabular.Record, field string) string {
	if i, ok := cm.fields[field]; ok && i < len(rec.Fields) {
		return rec.Fields[i]
	}
	return ""
}

// column returns the file's name for a Perk field, for error reports.
func (cm *columnMap) column(field string) string {
	if i, ok := cm.fields[field]; ok {
		return cm.header[i]
	}
	return field
}

// parse turns a record into a cleaned row, or the row error to report.
func (cm *columnMap) parse(rec tabular.Record, region string, s *Service) (importRow, *tabular.RowError) {
	p := Profile{
		Phone: cm.get(rec, "phone"), FirstName: cm.get(rec, "first_name"), LastName: cm.get(rec, "last_name"),
		Email: cm.get(rec, "email"), Birthday: cm.get(rec, "birthday"), HomeStore: cm.get(rec, "home_store"),
		ExternalID: cm.get(rec, "external_id"), TimeZone: cm.get(rec, "timezone"), Locale: cm.get(rec, "locale"),
		Attributes: make(map[string]string, len(cm.attrs)),
	}
	for k, i := range cm.attrs {
		if i < len(rec.Fields) && strings.TrimSpace(rec.Fields[i]) != "" {
			p.Attributes[k] = rec.Fields[i]
		}
	}
	if t := cm.get(rec, "tags"); t != "" {
		p.Tags = strings.FieldsFunc(t, func(r rune) bool { return r == ';' || r == '|' || r == ',' })
	}
	out := importRow{row: rec.Row}
	if strings.TrimSpace(p.Phone) == "" && strings.TrimSpace(p.ExternalID) == "" {
		return out, &tabular.RowError{Row: rec.Row, Column: cm.column("phone"), Reason: "phone is empty (and no external_id to match)"}
	}
	clean, err := p.clean(region, nowUTC(s.opt.Now), false)
	if err != nil {
		var pe *problem.Error
		if errors.As(err, &pe) {
			col := pe.Field
			if _, isAttr := cm.attrs[col]; !isAttr {
				col = cm.column(col)
			}
			return out, &tabular.RowError{Row: rec.Row, Column: col, Reason: pe.Message}
		}
		return out, &tabular.RowError{Row: rec.Row, Reason: err.Error()}
	}
	out.profile = clean
	if c := strings.ToLower(strings.TrimSpace(cm.get(rec, "consent"))); c != "" {
		var v bool
		switch c {
		case "y", "yes", "true", "1", "opt_in", "opted_in", "granted":
			v = true
		case "n", "no", "false", "0", "opt_out", "opted_out", "withdrawn":
			v = false
		default:
			return out, &tabular.RowError{Row: rec.Row, Column: cm.column("consent"), Reason: "consent must be yes or no, not " + c}
		}
		out.consent = &v
	}
	return out, nil
}
