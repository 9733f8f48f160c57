//go:build unix

package service

import "syscall"

// maxFDs is the soft limit on open files (EMQX's max_fds).
func maxFDs() int64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return int64(r.Cur)
}
