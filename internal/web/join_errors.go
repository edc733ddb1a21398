package web

import (
	"maps"
	"slices"
)

// joinFields are the sign-up form's fields in page order, by the name the
// validation uses; each input has the name as its id.
var joinFields = []string{"phone", "first_name", "last_name", "consent"}

// joinError is one line of the error summary at the top of /join.
type joinError struct {
	ID      string // the invalid input's id, linked from the summary; empty for a field the form has not
	Message string
}

// Summary lists the form's errors in page order, so the summary reads like
// the form and its links go to each invalid field.
func (d joinData) Summary() []joinError {
	var out []joinError
	for _, f := range joinFields {
		if m, ok := d.Errors[f]; ok {
			out = append(out, joinError{ID: f, Message: m})
		}
	}
	for _, f := range slices.Sorted(maps.Keys(d.Errors)) {
		if !slices.Contains(joinFields, f) {
			out = append(out, joinError{Message: d.Errors[f]})
		}
	}
	return out
}

// Focus is the id of the first invalid field, which the page focuses on
// load (keyboard and screen-reader users land where the fix is); empty when
// no field is invalid.
func (d joinData) Focus() string {
	for _, f := range joinFields {
		if _, ok := d.Errors[f]; ok {
			return f
		}
	}
	return ""
}

// joinLabels name the optional fields in messages about them: the summary
// shows a message away from its field, so "Is longer than 100 characters"
// alone would not say which.
var joinLabels = map[string]string{"first_name": "First name", "last_name": "Last name"}
