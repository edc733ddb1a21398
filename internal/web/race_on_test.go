//go:build race

package web_test

// raceDetector reports that the tests run under -race, where a browser
// test's page can be redrawn by the live feed before it is read.
const raceDetector = true
