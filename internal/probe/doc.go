// Package probe reads the target's side of a load test while it runs: its
// CPU time, its resident memory, the CPUs it may use, and any metric the
// user names. Three sources: a Prometheus text endpoint (prom=URL), a local
// process (pid=N, Linux /proc) and a cgroup v2 directory (cgroup=PATH).
//
// Lifecycle: Parse a spec (bad specs are usage errors, found before any
// request is sent), Start a Session with the probes, then Stop it and read
// each probe's samples, aligned to the run's timeline.
package probe
