// Package problem is Perk's one error type for failures a caller can act on:
// a kind that decides the HTTP status (or CLI exit), a stable machine code, the
// offending field and a message fit to show the person who caused it.
//
// Domain packages declare their sentinels with it (member.ErrNotFound); the web
// package turns them into {"error":{"code","message","field"}} in one place.
package problem

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers that branch on it.
type Kind int

// Kinds of problem, each mapped to one HTTP status by the web package.
const (
	Internal     Kind = iota // a bug or an outage: 500, the detail is logged, not shown
	Invalid                  // input that parses but is not acceptable: 422
	BadRequest               // input that does not parse: 400
	NotFound                 // 404
	Conflict                 // 409
	Unauthorized             // 401
	Forbidden                // 403
	RateLimited              // 429
	TooLarge                 // 413
)

// Error is a failure with a kind, a code such as "phone_invalid", the input
// field it concerns (JSON name, may be empty) and a human message.
type Error struct {
	Kind    Kind
	Code    string
	Field   string
	Message string
	Err     error // the cause, if any
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil && e.Err.Error() != e.Message {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes two problems equal when kind and code agree, so a sentinel such as
// member.ErrNotFound matches the same problem returned with more context.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// New returns a problem of the given kind.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// InvalidField reports bad input in one field; cause may be nil.
func InvalidField(field, code string, cause error, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...), Err: cause}
}

// KindOf returns the kind of the first problem in err's chain, Internal if none.
func KindOf(err error) Kind {
	var p *Error
	if errors.As(err, &p) {
		return p.Kind
	}
	return Internal
}
