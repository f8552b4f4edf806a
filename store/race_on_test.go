//go:build race

package store

// raceOn: the race detector slows SQLite's pure-Go code about twenty
// times; the longest randomized tests take fewer steps under it.
const raceOn = true
