//go:build unix

package history

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// lockOwner creates the lock file of a Store and holds an exclusive lock
// on it until closed. The kernel lets go of the lock when the process
// dies, however it dies.
func lockOwner(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ownerAlive reports whether the Store of the lock file path is alive: its
// file is there and locked.
func ownerAlive(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
