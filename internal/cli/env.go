package cli

import (
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/selfcheck"

	"golang.org/x/term"
)

// Env is the process boundary of the CLI: everything a command may take from
// or give to the operating system. Tests build their own Env, so no command
// reads a global stream or installs a global signal handler.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(key string) string
	// Notify relays interrupt signals (Ctrl-C, SIGTERM) to c until stop is
	// called.
	Notify func(c chan<- os.Signal) (stop func())
	// IsTerminal reports whether w is an interactive terminal, which decides
	// between a live progress line and plain periodic lines.
	IsTerminal func(w io.Writer) bool
	// Executable returns the path of the running surge binary; `surge demo`
	// starts the lab target as a child process from it.
	Executable func() (string, error)
	// Exit ends the process at once (second Ctrl-C).
	Exit func(code int)
}

// OSEnv returns the Env of the real process.
func OSEnv() Env {
	return Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		Notify: func(c chan<- os.Signal) func() {
			signal.Notify(c, os.Interrupt, syscall.SIGTERM)
			return func() { signal.Stop(c) }
		},
		IsTerminal: func(w io.Writer) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(int(f.Fd()))
		},
		Executable: os.Executable,
		Exit:       os.Exit,
	}
}

// tuneForLoad sets the Go scheduler's Ps for load generation, unless the
// user set GOMAXPROCS: two per CPU when the requests are plain HTTP, one
// per CPU when any goes over TLS. Sending a plain request is mostly a
// system call (a loopback write runs the receiver's TCP stack too), and a
// P held by a thread in a system call leaves goroutines with an answer
// waiting: on a 16-core machine, 2 pinned cores sent 139k req/s with one P
// per core and 169-176k with two (bench/scaling.sh, issue 2); on one core
// against nginx, two Ps still send 7-9 % more at 50 and 1000 connections.
// Over TLS the event loop spends its time in crypto, on the CPU, and the
// second P's threads only contend with it for that CPU: one P per CPU sent
// 1.5 % more at 50 HTTPS connections, 4 % at 200, 17-45 % at 1000, and
// 2-7 % more over HTTP/2 (closing note of stop 11). surge's CPU figures
// stay a share of the real CPUs (selfcheck.Cores).
func tuneForLoad(env Env, reqs []*client.Request) {
	if env.Getenv("GOMAXPROCS") != "" {
		return
	}
	runtime.GOMAXPROCS(psPerCPU(reqs) * selfcheck.Cores())
}

// psPerCPU is how many scheduler Ps per CPU suit requests: see
// tuneForLoad.
func psPerCPU(reqs []*client.Request) int {
	for _, r := range reqs {
		if r.URL != nil && r.URL.Scheme == "https" {
			return 1
		}
	}
	return 2
}
