//go:build unix

package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// lockState takes the state file's lock (path + ".lock", held until
// release): one emulator per state file. Two processes started on one
// data directory each ran an emulator of their own over the same file,
// and each polled operations the other's cloud had started, so most of
// them ended lost. The kernel lets go of the lock when the process dies,
// so a SIGKILL leaves nothing to clean up.
func lockState(path string) (release func() error, err error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		// A directory that cannot be written to holds no state to guard,
		// and the database's own check then says so in plain words.
		return func() error { return nil }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sim: lock state: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("sim: %s: %w (%v)", path, ErrStateInUse, err)
	}
	return f.Close, nil
}
