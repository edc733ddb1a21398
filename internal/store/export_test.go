package store

// GroupWaiting is how many units wait for the writer, for tests.
func GroupWaiting(db *DB) int { return int(db.group.waiting.Load()) }
