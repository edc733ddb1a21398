package sms

// Parked is how many receipts wait in memory for an acceptance this
// process holds (see recorder).
func (q *Queue) Parked() int {
	q.rec.mu.Lock()
	defer q.rec.mu.Unlock()
	n := 0
	for _, ps := range q.rec.parked {
		n += len(ps)
	}
	return n
}
