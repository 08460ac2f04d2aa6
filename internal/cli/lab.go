package cli

import (
	"fmt"
	"net"
	"strings"

	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/lab"
)

const labLong = `Serve the lab target: an HTTP API on loopback whose endpoints each reproduce
one bottleneck from the field reports (a global lock, a pool of n, a quota,
a slow dependency, overload errors or shedding, a race, a leak, a full table
scan, a single-threaded server, a lock that scales backwards, an app calling
its backend), with query-string knobs and known theoretical capacity. GET / lists the endpoints;
GET /metrics exposes Prometheus metrics (process CPU and memory, in-flight
requests, pool waiters, ...).

The lab only listens on loopback (127.0.0.0/8, ::1, localhost).

The first line on stdout is "listening on http://ADDR"; Ctrl-C stops it.

Examples:
  surge lab
  surge lab --listen 127.0.0.1:0 --rows 1000000
  surge run -u 40 -d 20s 'http://127.0.0.1:8080/pool?n=20&ms=10'`

type labOptions struct {
	listen      string
	rows        int
	leakMax     int64
	noGoMetrics bool
	backend     bool
}

func newLabCmd(env Env) *cobra.Command {
	def := lab.DefaultConfig()
	o := labOptions{listen: def.Listen, rows: def.Rows, leakMax: def.LeakMax >> 20}
	cmd := &cobra.Command{
		Use:   "lab [flags]",
		Short: "Serve a target API with known, switchable bottlenecks",
		Long:  labLong,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, env)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&o.listen, "listen", o.listen, "loopback address to listen on (port 0: any free port)")
	fs.IntVar(&o.rows, "rows", o.rows, "rows in the in-memory table behind /scan and /lookup")
	fs.Int64Var(&o.leakMax, "leak-max", o.leakMax, "MiB that /leak may retain in total")
	fs.BoolVar(&o.noGoMetrics, "no-go-metrics", false, "leave the Go runtime's go_* metrics off /metrics (as a non-Go service would: no core count)")
	fs.BoolVar(&o.backend, "backend", false, "start a second lab as a child process for /backend to call, as an app calls its database")
	return cmd
}

func (o *labOptions) run(cmd *cobra.Command, env Env) error {
	cfg := lab.Config{Listen: o.listen, Rows: o.rows, LeakMax: o.leakMax << 20, NoGoMetrics: o.noGoMetrics}
	if o.leakMax < 0 || o.leakMax > 1<<20 {
		return usagef("--leak-max must be from 0 to %d MiB, got %d", 1<<20, o.leakMax)
	}
	if err := cfg.Validate(); err != nil {
		return asUsage(labFlagError(err))
	}
	ctx, stop := interruptible(cmd.Context(), env)
	defer stop()
	var backendPID int
	if o.backend {
		base, pid, stopBackend, err := startLabProcess(ctx, env)
		if err != nil {
			return err
		}
		defer stopBackend()
		cfg.Backend, backendPID = base, pid
	}
	srv, err := lab.New(cfg)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, func(addr net.Addr) {
		fmt.Fprintf(env.Stdout, "listening on http://%s\n", addr)
		if cfg.Backend != "" {
			fmt.Fprintf(env.Stdout, "backend on %s pid %d\n", cfg.Backend, backendPID)
		}
		fmt.Fprintf(env.Stderr, "surge lab: GET http://%s/ lists the endpoints; Ctrl-C stops\n", addr)
	})
}

// labFlagError names the flags in the lab's validation messages.
func labFlagError(err error) error {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "listen ", "--listen ")
	msg = strings.ReplaceAll(msg, "rows ", "--rows ")
	msg = strings.ReplaceAll(msg, "\n", "; ")
	return fmt.Errorf("%s", msg)
}
