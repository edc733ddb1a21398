package crm

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// record is one row of a feed: its values in the order of the feed's
// columns, written as a CSV row or a JSON object with the keys in that order.
type record struct {
	cols []string
	vals []any
}

// CSV renders each value: nothing for null, ";"-separated lists, RFC 3339
// UTC times.
func (r record) CSV() []string {
	out := make([]string, len(r.vals))
	for i, v := range r.vals {
		switch v := v.(type) {
		case nil:
		case string:
			out[i] = v
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		case json.Number:
			out[i] = v.String()
		case time.Time:
			out[i] = formatTime(v)
		case []string:
			out[i] = strings.Join(v, ";")
		default:
			b, _ := json.Marshal(v)
			out[i] = string(b)
		}
	}
	return out
}

// MarshalJSON writes the object with the feed's column order.
func (r record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		b.Write(k)
		b.WriteByte(':')
		v := r.vals[i]
		if t, ok := v.(time.Time); ok {
			v = formatTime(t)
		}
		if s, ok := v.([]string); ok && s == nil {
			v = []string{}
		}
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(j)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// data is a log row's data, numbers kept exact.
type data map[string]any

func parseData(s string) (data, error) {
	d := data{}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return d, dec.Decode(&d)
}

// get is the value of key k: a string, a json.Number, a list of strings or
// nil when absent.
func (d data) get(k string) any {
	switch v := d[k].(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		return v
	}
}

func (d data) str(k string) string {
	s, _ := d[k].(string)
	return s
}
