package diagnose_test

import (
	"testing"

	"github.com/surgeload/surge/internal/result"
)

// withoutThreads drops the busiest-thread reading, as a prom or cgroup
// probe of the same process would have it.
func withoutThreads(s *result.Step) {
	for _, w := range s.Probes {
		w.BusiestThreadCores = nil
	}
}

// withoutCores also drops the core count, as a prom probe of a non-Go
// service has it.
func withoutCores(s *result.Step) {
	withoutThreads(s)
	for _, w := range s.Probes {
		w.Cores, w.CPUUtil = nil, nil
	}
}

// withIdleApp adds a second probe, an app in front that idles at 0.08 of
// 2 cores, beside the recorded one.
func withIdleApp(s *result.Step) {
	s.Probes["prom=http://127.0.0.1:9/metrics"] = &result.ProbeWindow{CPUCores: ptr(0.08), Cores: ptr(2), CPUUtil: ptr(0.04)}
}

func TestRuleCPU(t *testing.T) {
	runReplays(t, []replayCase{{
		// /single on a 2-core host, pid probe: one core in all, its busiest
		// thread at ~100 % (issue 10, case 2).
		name: "single thread seen by pid", file: "cpu-single-thread-pid", class: "cpu",
		summary:  []string{"One thread of the target is saturated", "single-threaded"},
		evidence: []string{"target CPU 51% of 2 cores at the plateau; busiest thread", "one thread ran at"},
	}, {
		// The same run seen without threads: CPU flat at 1 of 2 cores.
		name: "single thread by its shape", file: "cpu-single-thread-pid", edit: eachStep(withoutThreads), class: "cpu",
		summary:  []string{"exactly one of its 2 cores"},
		evidence: []string{"sat flat at 1 core of 2 cores"},
	}, {
		// ... and without a core count (prom, non-Go): inferred from the
		// shape, CPU flat at a whole number of cores (case 1).
		name: "cores unknown, inferred from the shape", file: "cpu-single-thread-pid", edit: eachStep(withoutCores), class: "cpu",
		summary:  []string{"The target's CPU is saturated", "of 1 core"},
		evidence: []string{"cores inferred: CPU flat at a whole number of cores"},
	}, {
		// A cgroup without cpu.max: cores from the host (case 3).
		name: "cgroup without a quota", file: "cpu-cgroup-noquota", class: "cpu",
		summary: []string{"of 2 cores"},
	}, {
		// Two probes: the busiest is read, whatever the names' order (case 4).
		name: "the busiest of two probes", file: "cpu-single-thread-pid", edit: eachStep(withIdleApp), class: "cpu",
		evidence: []string{"busiest probe pid=", "prom=http://127.0.0.1:9/metrics 4% of 2 cores"},
	}, {
		// /cpu?ms=10 (a thread per request burning CPU) while three other
		// processes spin on the 2 cores: the target gets about one core,
		// not its two, and its threads wait for the rest.
		name: "starved by other processes", file: "cpu-starved-busyhost-pid", class: "cpu",
		summary:  []string{"starved of CPU", "ran on 55% of them"},
		evidence: []string{"ran on 1.09: they waited 3.36 for a CPU", "this machine's CPUs were 100% busy"},
	}, {
		// The same run had the machine not been busy (the other processes
		// gone, the wait left): the target's own threads, not others, kept
		// it from its cores; not starved.
		name: "waiting, machine not busy", file: "cpu-starved-busyhost-pid", class: "cpu",
		edit:       eachStep(func(s *result.Step) { setHost(s, 0.6) }),
		notSummary: []string{"starved"},
	}, {
		// A prom probe without cores on a host too busy to give the target
		// its core: 0.6–0.7 cores, no whole number, so no CPU verdict, and
		// the evidence says the cores are unknown and how to tell them.
		name: "cores unknown and no shape", file: "busyhost-prom-nocores", class: "serialized",
		evidence: []string{"its core count is unknown; give it with --probe prom=URL,cores=N"},
	}})
}

func TestRuleCPUBackend(t *testing.T) {
	runReplays(t, []replayCase{{
		// /backend with a probe on the app and one on the backend: the
		// backend's core is saturated, the app idles; the verdict names the
		// backend's probe whatever the names' order (case 4). The run's host
		// was busy (timers 90 ms late): the fall in throughput is not
		// called retrograde.
		name: "app and backend", file: "cpu-backend-two-probes", class: "cpu",
		summary:     []string{"100% of 1 core, prom=http://localhost:"},
		evidence:    []string{"busiest probe prom=http://localhost:", "2% of 1 core", "this host is busy"},
		notEvidence: []string{"fell as load grew"},
	}})
}

// setHost sets the machine's CPU share seen by every probe.
func setHost(s *result.Step, util float64) {
	for _, w := range s.Probes {
		w.HostCPUUtil = ptr(util)
	}
}
