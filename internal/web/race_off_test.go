//go:build !race

package web_test

// raceDetector reports that the tests run under -race.
const raceDetector = false
