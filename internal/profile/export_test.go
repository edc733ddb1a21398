package profile

// WithBetweenChunks returns o with f run after each write transaction of a
// refresh (with the writer free), for tests that commit during one.
func WithBetweenChunks(o Options, f func()) Options {
	o.betweenChunks = f
	return o
}
