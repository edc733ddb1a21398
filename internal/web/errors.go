package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// errorBody is the one JSON error shape of the API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// statusOf maps a problem kind to its HTTP status; the only place that does.
// statusClientClosed is the status recorded for a request whose client
// went away before the answer (nginx's convention; never seen by a client).
const statusClientClosed = 499

func statusOf(k problem.Kind) int {
	switch k {
	case problem.Invalid:
		return http.StatusUnprocessableEntity
	case problem.BadRequest:
		return http.StatusBadRequest
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Conflict:
		return http.StatusConflict
	case problem.Unauthorized:
		return http.StatusUnauthorized
	case problem.Forbidden:
		return http.StatusForbidden
	case problem.RateLimited:
		return http.StatusTooManyRequests
	case problem.TooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// writeError answers with the JSON error for err. Internal errors are logged
// with their detail and shown to the client only as "internal error".
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var p *problem.Error
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client hung up (a load test's end, a till's timeout): the work
		// was rolled back with the request, nobody reads this answer, and
		// it is not the server failing, so not a 500 in the logs and
		// metrics: 499, nginx's "client closed request".
		w.WriteHeader(statusClientClosed)
		return
	}
	if !errors.As(err, &p) {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "err", err)
		p = problem.New(problem.Internal, "internal", "internal error")
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Field = p.Code, p.Message, p.Field
	if p.Kind == problem.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="perk"`)
	}
	var ra *retryAfter
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", ra.seconds())
	}
	writeJSON(w, statusOf(p.Kind), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// maxJSONBody bounds request bodies of the JSON API.
const maxJSONBody = 1 << 20

// decodeJSON reads one JSON object into v, whatever the Content-Type says
// (curl's default form type is a common slip), refusing unknown fields (a typo
// in a field name should fail loudly, not be ignored) and trailing data, and
// turning decoder errors into 400 problems that name the field.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONMax(w, r, v, maxJSONBody)
}

// decodeJSONMax is decodeJSON for a body of up to max bytes (bulk writes).
func decodeJSONMax(w http.ResponseWriter, r *http.Request, v any, max int64) error {
	return decodeJSONFrom(http.MaxBytesReader(w, r.Body, max), v, max)
}

// decodeJSONFrom is decodeJSONMax's decoding of a body read through
// http.MaxBytesReader(..., max).
func decodeJSONFrom(body io.Reader, v any, max int64) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			return badJSON("", "request body must hold a single JSON object")
		}
		return checkDecodedText(v)
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &problem.Error{Kind: problem.TooLarge, Code: "body_too_large", Message: fmt.Sprintf("request body is over %d bytes", max)}
	case errors.As(err, &syntax):
		return badJSON("", fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.As(err, &typeErr):
		return badJSON(typeErr.Field, fmt.Sprintf("must be %s, not %s", jsonType(typeErr.Type), typeErr.Value))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badJSON("", "request body is empty or cut short")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badJSON(field, "unknown field")
	}
	return badJSON("", err.Error())
}

func badJSON(field, msg string) error {
	return &problem.Error{Kind: problem.BadRequest, Code: "bad_request", Field: field, Message: msg}
}

// jsonType says what a value of type t is written as in JSON.
func jsonType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Weekday]() { // a day of engine.Weekdays
		return "a day of the week (" + engine.DayNames + ")"
	}
	switch t.Kind().String() {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return "a number"
}
