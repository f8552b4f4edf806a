package main

import (
	"os/exec"
	"syscall"
)

// tieToParent has the kernel send the child SIGTERM when this process
// dies, so an app started by a killed soak does not outlive it.
func tieToParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
