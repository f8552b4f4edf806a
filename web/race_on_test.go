//go:build race

package web_test

// raceOn: the race detector slows SQLite's pure-Go code about twenty
// times; the floods of requests are shorter under it.
const raceOn = true
