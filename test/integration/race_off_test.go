//go:build !race

package integration

// raceEnabled reports that the tests run with the race detector; the herald
// binary is then built with it too.
const raceEnabled = false
