package campaign

import "testing"

// SetShardReadHook runs f after each read of the counter shards that locks
// them (the n-th of a take or limit change counting over shards shards)
// until the test ends.
func SetShardReadHook(t testing.TB, f func(cid string, shards, n int)) {
	testHookShardRead = f
	t.Cleanup(func() { testHookShardRead = nil })
}
