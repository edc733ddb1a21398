package web

import (
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/perk-platform/perk/internal/problem"
)

// Text that PostgreSQL cannot store (a NUL byte, or bytes that are not
// UTF-8) is refused here, once, for every route: otherwise each query that
// binds it answers 500 on PostgreSQL (SQLSTATE 22021) while SQLite takes it,
// and the two databases disagree about the same request.

// badText reports why s cannot be stored as text, or "" when it can.
func badText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "must not contain a NUL character"
	case !utf8.ValidString(s):
		return "must be UTF-8 text"
	}
	return ""
}

func invalidText(field, why string) error {
	return &problem.Error{Kind: problem.BadRequest, Code: "invalid_text", Field: field, Message: why}
}

// maxFormBody bounds url-encoded form bodies read by the text check; the
// handlers set tighter limits of their own.
const maxFormBody = 1 << 20

// checkRequestText refuses a request whose path, query or url-encoded form
// holds text that cannot be stored. The form of a page is parsed here, so
// handlers read it from r.PostForm as usual; an API body is JSON whatever its
// Content-Type says (decodeJSON checks its strings), and an SMS gateway's
// callbacks carry message text in the gateway's own encoding (Kannel sends
// UCS-2 as raw UTF-16 bytes), which their handler decodes: neither is read
// here.
func checkRequestText(w http.ResponseWriter, r *http.Request) error {
	if strings.HasPrefix(r.URL.Path, "/kannel/") {
		return nil
	}
	if why := badText(r.URL.Path); why != "" {
		return invalidText("path", why)
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &problem.Error{Kind: problem.BadRequest, Code: "bad_query", Message: "the query string is malformed"}
	}
	if err := checkValues(query); err != nil {
		return err
	}
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		return nil
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" && r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			return &problem.Error{Kind: problem.BadRequest, Code: "bad_form", Message: "the form could not be read"}
		}
		return checkValues(r.PostForm)
	}
	return nil
}

func checkValues(v url.Values) error {
	for k, vs := range v {
		if why := badText(k); why != "" {
			return invalidText(k, "parameter name "+why)
		}
		for _, s := range vs {
			if why := badText(s); why != "" {
				return invalidText(k, why)
			}
		}
	}
	return nil
}

// checkDecodedText walks a decoded JSON body and refuses the first string
// that cannot be stored, naming its field as the decoder would
// ("lines[2].sku"). encoding/json already turns invalid UTF-8 into U+FFFD,
// so in practice this finds "\u0000".
func checkDecodedText(v any) error {
	return walkText(reflect.ValueOf(v), "")
}

func walkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.String:
		if why := badText(v.String()); why != "" {
			return invalidText(path, why)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walkText(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := jsonName(f)
			if name == "-" {
				continue
			}
			if err := walkText(v.Field(i), join(path, name, f.Anonymous)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte and json.RawMessage are not text
		}
		for i := 0; i < v.Len(); i++ {
			if err := walkText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			field := path
			if k.Kind() == reflect.String {
				if why := badText(k.String()); why != "" {
					return invalidText(path, "key "+why)
				}
				field = join(path, k.String(), false)
			}
			if err := walkText(iter.Value(), field); err != nil {
				return err
			}
		}
	}
	return nil
}

func jsonName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if tag == "" {
		return f.Name
	}
	return tag
}

// join appends a field name to a path; embedded structs add nothing, as in
// the JSON they flatten into.
func join(path, name string, embedded bool) string {
	switch {
	case embedded:
		return path
	case path == "":
		return name
	}
	return path + "." + name
}

// securityHeaders are sent with every answer. Answers are never to be
// sniffed into another type (an uploaded CSV served as HTML), and by default
// nothing is cached: API answers and pages carry personal data (a member, a
// card with its barcode, a dashboard). Static assets set their own
// Cache-Control.
func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "same-origin")
}
