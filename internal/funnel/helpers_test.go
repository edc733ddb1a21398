package funnel

import (
	"errors"

	"github.com/perk-platform/perk/internal/problem"
)

func containsField(err error, field string) bool {
	var p *problem.Error
	return errors.As(err, &p) && p.Field == field
}
