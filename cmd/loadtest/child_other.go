//go:build !linux

package main

import "os/exec"

// tieToParent does nothing here: only Linux has a parent-death signal.
func tieToParent(*exec.Cmd) {}
