//go:build race

package history

// raceEnabled: the race detector slows SQLite (Go code here) many times.
const raceEnabled = true
