package miniotest

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill minio if the test process dies without
// running its cleanups (a test timeout, a kill -9).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// resume continues a server stopped with SIGSTOP.
func resume(p *os.Process) { _ = p.Signal(syscall.SIGCONT) }
