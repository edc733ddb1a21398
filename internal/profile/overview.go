package profile

import (
	"context"
	"fmt"

	"github.com/perk-platform/perk/internal/store"
)

// Cell is one cell of the RFM grid: the members scored R and FM, their
// segment and their average monetary value (minor units, over the window).
type Cell struct {
	R           int     `json:"r"`
	FM          int     `json:"fm"`
	Segment     Segment `json:"segment"`
	Members     int64   `json:"members"`
	AvgMonetary int64   `json:"avg_monetary"`
}

// Move is how many members went from one segment to another ("" for a
// member who had none) since the end of last month.
type Move struct {
	From    Segment `json:"from"`
	To      Segment `json:"to"`
	Members int64   `json:"members"`
}

// Movement compares today's segments with those at the end of Month.
type Movement struct {
	Month string `json:"month"` // YYYY-MM of the snapshot compared with; "" before the first
	Moves []Move `json:"moves"` // members who changed segment, most first
}

// Grid is the RFM grid: its 25 cells, R 5 to 1 and FM 1 to 5, with the
// members stored profiles place there (empty cells included).
func Grid(ctx context.Context, db *store.DB) ([]Cell, error) {
	cells := make([]Cell, 0, 25)
	at := map[[2]int]int{}
	for r := 5; r >= 1; r-- {
		for fm := 1; fm <= 5; fm++ {
			at[[2]int{r, fm}] = len(cells)
			cells = append(cells, Cell{R: r, FM: fm, Segment: grid[r-1][fm-1]})
		}
	}
	rows, err := db.R.QueryContext(ctx, `SELECT r_score, (f_score + m_score + 1) / 2, COUNT(*), CAST(COALESCE(SUM(monetary), 0) AS BIGINT)
		FROM member_profiles WHERE r_score > 0 GROUP BY r_score, (f_score + m_score + 1) / 2`)
	if err != nil {
		return nil, fmt.Errorf("profile: grid: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r, fm int
		var n, sum int64
		if err := rows.Scan(&r, &fm, &n, &sum); err != nil {
			return nil, fmt.Errorf("profile: grid: %w", err)
		}
		if i, ok := at[[2]int{r, fm}]; ok && n > 0 {
			cells[i].Members, cells[i].AvgMonetary = n, sum/n
		}
	}
	return cells, rows.Err()
}

// Movements compares members' segments now with the latest end-of-month
// snapshot (profile_snapshots): from -> to counts of the members whose
// segment changed, erased members left out.
func Movements(ctx context.Context, db *store.DB) (Movement, error) {
	mv := Movement{Moves: []Move{}}
	err := db.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(month), '') FROM profile_snapshots`).Scan(&mv.Month)
	if err != nil || mv.Month == "" {
		return mv, err
	}
	rows, err := db.R.QueryContext(ctx, `SELECT COALESCE(s.segment, ''), p.segment, COUNT(*) FROM member_profiles p
		LEFT JOIN profile_snapshots s ON s.member_id = p.member_id AND s.month = $1
		WHERE COALESCE(s.segment, '') <> p.segment
		GROUP BY COALESCE(s.segment, ''), p.segment ORDER BY COUNT(*) DESC, 1, 2`, mv.Month)
	if err != nil {
		return mv, fmt.Errorf("profile: movements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Move
		var from, to string
		if err := rows.Scan(&from, &to, &m.Members); err != nil {
			return mv, fmt.Errorf("profile: movements: %w", err)
		}
		m.From, m.To = Segment(from), Segment(to)
		mv.Moves = append(mv.Moves, m)
	}
	return mv, rows.Err()
}
