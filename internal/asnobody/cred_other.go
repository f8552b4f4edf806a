//go:build !unix

package asnobody

import "os/exec"

// asUser is never reached where there is no root (os.Geteuid is -1).
func asUser(*exec.Cmd, uint32) {}
