package web

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
	for f, m := range d.Errors {
		if !isJoinField(f) {
			out = append(out, joinError{Message: m})
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

func isJoinField(f string) bool {
	for _, g := range joinFields {
		if f == g {
			return true
		}
	}
	return false
}
