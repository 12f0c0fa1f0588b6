//go:build !linux

package miniotest

import (
	"os"
	"os/exec"
)

func setProcAttr(*exec.Cmd) {}

func resume(*os.Process) {}
