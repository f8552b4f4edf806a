package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain stops what the tests of the process share (Chromium, the
// read-only demo app) once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := stopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}
