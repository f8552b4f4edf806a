//go:build !unix

package sim

// lockState does nothing where there is no flock: one emulator per state
// file is then up to the operator.
func lockState(string) (func() error, error) { return func() error { return nil }, nil }
