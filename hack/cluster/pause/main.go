// Command pause is the sandbox ("pause") process of the test cluster's pods.
//
// It is packed as a one-layer image and imported into containerd under the name of
// containerd's sandbox_image, because no public registry is reachable. Like the
// upstream pause binary it sleeps until SIGTERM or SIGINT and reaps orphaned
// children when it runs as PID 1 of a pod with a shared process namespace.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
