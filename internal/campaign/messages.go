package campaign

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/perk-platform/perk/internal/sms"
)

// MessageStates tells the SMS sender, at send time, whether the campaigns
// of queued messages are paused or over, when they end and their priority
// (sms.Campaigns). It reads the rows every time it is asked; the contact
// policy asks once per claimed batch (sms.Batch), so a pause made by another
// instance or by perk campaigns pause counts from the next batch.
func (s *Service) MessageStates(ctx context.Context, ids []string) (map[string]sms.CampaignState, error) {
	out := make(map[string]sms.CampaignState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, status, ends_at, spec FROM campaigns WHERE id IN (`+
		s.db.Dialect.Placeholders(1, len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("campaign message states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, status, spec string
		var st sms.CampaignState
		if err := rows.Scan(&cid, &status, &st.End, &spec); err != nil {
			return nil, fmt.Errorf("campaign message states: %w", err)
		}
		var sp struct {
			Priority int `json:"priority"`
		}
		if err := json.Unmarshal([]byte(spec), &sp); err != nil {
			return nil, fmt.Errorf("campaign %s: stored spec: %w", cid, err)
		}
		st.End, st.Priority = st.End.UTC(), sp.Priority
		st.Paused = Status(status) == Paused
		st.Ended = Status(status) == Ended
		out[cid] = st
	}
	return out, rows.Err()
}

var _ sms.Campaigns = (*Service)(nil)
