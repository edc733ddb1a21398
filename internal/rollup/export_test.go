package rollup

// TallyFrom is the set-based recomputation of basket_tally, for the test
// that holds migration 0056's backfill to it.
var TallyFrom = tallyFrom
