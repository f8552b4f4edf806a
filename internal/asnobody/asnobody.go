// Package asnobody lets a test about file permissions mean it when the
// tests run as root (as in CI's container), where file modes stop nothing:
// Here runs the test again as the user nobody.
package asnobody

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// UID is the unprivileged user (and group) the test runs again as.
const UID = 65534

// Here reports whether the calling test should run its checks in this
// process: true when the process is not root (file modes bind it). As root
// it runs the test again in a child process as the user nobody (a copy of
// this test binary in a world-readable directory, since go test's is
// private to root, which is also the child's TMPDIR and HOME), fails the
// test if the child fails, and returns false.
func Here(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	base, err := os.MkdirTemp("", "imagedash-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o1777); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, filepath.Base(exe))
	if err := copyExecutable(exe, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), "TMPDIR="+base, "HOME="+base)
	asUser(cmd, UID)
	out, err := cmd.CombinedOutput()
	t.Logf("as uid %d (root is not stopped by file modes):\n%s", UID, out)
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("%s as uid %d: %v", t.Name(), UID, err)
	}
	return false
}

func copyExecutable(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
