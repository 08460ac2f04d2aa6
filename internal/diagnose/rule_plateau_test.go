package diagnose_test

import (
	"testing"

	"github.com/surgeload/surge/internal/result"
)

// onHost sets the generator's host cores in every step.
func onHost(cores int) func(s *result.Step) {
	return func(s *result.Step) { s.Client.Cores = cores }
}

func TestRulePlateau(t *testing.T) {
	runReplays(t, []replayCase{{
		// /pool?n=4&ms=20: 200 req/s, 4 in service, CPU idle.
		name: "pool of 4", file: "concurrency-limit-pool", class: "concurrency-limit",
		summary:  []string{"a pool or worker limit of ~4"},
		evidence: []string{"Little's law", "target CPU 1% of 2 cores at the plateau", "a CPU-based autoscaler would not react"},
	}, {
		// Without a probe and with N equal to this host's cores, a CPU limit
		// and a pool look the same: say both (case 5).
		name: "N equals the host's cores, no CPU reading", file: "concurrency-limit-pool",
		edit: eachStep(func(s *result.Step) { dropProbes(s); s.Client.Cores = 4 }), class: "concurrency-limit",
		summary:     []string{"the target is CPU-bound, or has a limit of 4"},
		evidence:    []string{"target CPU unknown at the plateau: add --probe"},
		notEvidence: []string{"autoscaler"},
	}, {
		name: "N unlike the host's cores, no CPU reading", file: "concurrency-limit-pool",
		edit: eachStep(func(s *result.Step) { dropProbes(s); s.Client.Cores = 16 }), class: "concurrency-limit",
		summary: []string{"a pool or worker limit of ~4"},
	}, {
		name: "global lock", file: "serialized-lock", class: "serialized",
		summary: []string{"served one at a time"},
	}, {
		// /retro: throughput falls as users grow (case 8's other half).
		name: "retrograde", file: "serialized-retrograde", class: "serialized",
		summary:     []string{"Throughput even falls as load grows"},
		evidence:    []string{"throughput fell as load grew: 188 req/s at 2 users, 84.0 req/s at 16 users"},
		notEvidence: []string{"throughput flat"},
	}, {
		// A Flask server (threaded, a thread per connection) whose handler
		// burns 2 ms of CPU: Python's interpreter lock serves one request
		// at a time, and spreads one core over every connection's thread,
		// so that no thread looks busy (4 %). The CPU per request, close to
		// the whole service time, says the one in service is on a core.
		name: "interpreter lock, a thread per connection", file: "cpu-python-gil-pid", class: "cpu",
		summary:     []string{"One core is the limit", "interpreter lock"},
		evidence:    []string{"of its service time at 1 user", "busiest thread 4% of a core"},
		notEvidence: []string{"autoscaler"},
	}, {
		// The same run had it used a third of the CPU: a lock held while
		// waiting, not while computing.
		name: "one at a time, mostly waiting", file: "cpu-python-gil-pid",
		edit:  eachStep(scaleCPU(1.0 / 3)),
		class: "serialized", summary: []string{"served one at a time"},
	}, {
		// /gil?ms=5 while three other processes spun for the first 3.5 s:
		// the lowest loads waited for a CPU (10.3 ms at 1 user for 5 ms of
		// work), the plateau did not; the CPU sat flat at one core there.
		name: "interpreter lock, host busy at first", file: "cpu-gil-busy-start-pid", class: "cpu",
		summary:  []string{"exactly one of its 2 cores"},
		evidence: []string{"less 5.06ms waiting for a CPU) ≈ 1.0 requests in service"},
	}, {
		// The same, had the host kept taking part of the core across the
		// plateau (as on a CI machine running other tests): no flat core,
		// and the time spent waiting for a CPU at 1 user still shows the
		// request in service ready to run all the time.
		name: "interpreter lock on a busy host", file: "cpu-gil-busy-start-pid", edit: unevenPlateau, class: "cpu",
		summary:  []string{"One core is the limit", "interpreter lock"},
		evidence: []string{"and waited 5.06ms for a core at 1 user", "78% of its service time"},
	}, {
		// ... and without the wait (a probe that cannot read it), the
		// latency at 1 user looks like two requests in service: the
		// verdict this run got before the wait was read.
		name: "interpreter lock on a busy host, wait unknown", file: "cpu-gil-busy-start-pid",
		edit: func(r *result.Result) { unevenPlateau(r); eachStep(withoutWait)(r) }, class: "concurrency-limit",
		summary: []string{"a pool or worker limit of ~2"},
	}, {
		// A thread per connection has one thread at a whole core while one
		// user is in: had that level been the peak, the work still does not
		// go through a single thread, since at the top load none is busy.
		name: "one busy thread at 1 user only", file: "cpu-gil-busy-start-pid", edit: busyFirstThread, class: "cpu",
		notEvidence: []string{"one thread ran at"},
	}, {
		// The Flask server of the interpreter-lock case (2 ms of CPU per
		// request) beside three spinning processes on its 2 cores. It closes
		// its connection after each answer, so each request has a thread of
		// its own that ends before the probe reads its wait: the lock's
		// one-at-a-time shows, its CPU-boundness does not. What shows is the
		// busy machine, and the verdict says so.
		name: "interpreter lock on a machine busy with others", file: "serialized-python-gil-busyhost-pid", class: "serialized",
		evidence: []string{"this machine's CPUs were 100% busy at 1 user", "other processes took the rest"},
	}, {
		// The same without the machine's CPU (a prom probe): no such line.
		name: "busy machine unseen", file: "serialized-python-gil-busyhost-pid", class: "serialized",
		edit: eachStep(func(s *result.Step) {
			for _, w := range s.Probes {
				w.HostCPUUtil = nil
			}
		}),
		notEvidence: []string{"other processes took the rest"},
	}, {
		// A Flask pool of 4 held 20 ms (a semaphore around a sleep): the CPU
		// per request is a sliver of its service time.
		name: "python pool of 4", file: "concurrency-limit-python-pool-pid", class: "concurrency-limit",
		summary: []string{"a pool or worker limit of ~4"},
	}, {
		// A flat plateau is not retrograde.
		name: "flat is not retrograde", file: "concurrency-limit-pool", class: "concurrency-limit",
		notEvidence: []string{"fell as load grew"},
	}})
}

// scaleCPU multiplies every probe's CPU reading by f.
func scaleCPU(f float64) func(s *result.Step) {
	return func(s *result.Step) {
		for _, w := range s.Probes {
			if w.CPUCores != nil {
				w.CPUCores = ptr(*w.CPUCores * f)
			}
			if w.CPUUtil != nil {
				w.CPUUtil = ptr(*w.CPUUtil * f)
			}
		}
	}
}

// withoutWait drops the wait for a CPU, as a probe that cannot read it.
func withoutWait(s *result.Step) {
	for _, w := range s.Probes {
		w.CPUWaitCores = nil
	}
}

// unevenPlateau takes a fifth of the target's CPU away at every other
// level from 8 users up, as a host busy with other work does.
func unevenPlateau(r *result.Result) {
	for i := range r.Steps {
		if r.Steps[i].Users >= 8 && i%2 == 0 {
			scaleCPU(0.8)(&r.Steps[i])
		}
	}
}

// busyFirstThread makes the 1-user level the peak, its one connection's
// thread on a core all the time.
func busyFirstThread(r *result.Result) {
	s := &r.Steps[0]
	s.RPS = 199
	s.Latency.Mean = 5
	for _, w := range s.Probes {
		w.CPUCores, w.CPUUtil = ptr(0.99), ptr(0.495)
		w.BusiestThreadCores, w.CPUWaitCores = ptr(0.99), ptr(0.01)
	}
}

// Java's built-in HttpServer (OpenJDK 17, 32 threads) writes a response's
// head and body apart with Nagle's algorithm on: each response stalls
// ~43 ms for the client's delayed ACK, after the server is done with it.
// Little's law over the whole latency counted that stall as service and
// read a limit of 9 for a lock around a 5 ms sleep, 13 for a semaphore of
// 4 around a 20 ms sleep; over the time to the first byte it reads 1.0
// and 4.1. Without the first-byte figure (older results, HTTP/2), the
// old reading comes back, and nothing is said of a stall.
func TestRulePlateauDelayedACKStall(t *testing.T) {
	noTTFB := eachStep(func(s *result.Step) { s.Latency.TTFB = 0 })
	runReplays(t, []replayCase{{
		name: "lock around a sleep", file: "serialized-jvm-ackstall-pid", class: "serialized",
		evidence: []string{"mean time to the first byte at 1 user", "delayed ACK", "TCP_NODELAY"},
	}, {
		name: "semaphore of 4", file: "concurrency-limit-jvm-ackstall-pid", class: "concurrency-limit",
		summary:  []string{"a pool or worker limit of ~4"},
		evidence: []string{"≈ 4.1 requests in service", "responses stalled 43.6ms"},
	}, {
		name: "lock around a sleep, no first byte", file: "serialized-jvm-ackstall-pid", edit: noTTFB,
		class: "concurrency-limit", summary: []string{"a pool or worker limit of ~9"},
		notEvidence: []string{"delayed ACK", "first byte"},
	}, {
		name: "semaphore of 4, no first byte", file: "concurrency-limit-jvm-ackstall-pid", edit: noTTFB,
		class: "concurrency-limit", summary: []string{"a pool or worker limit of ~13"},
	}, {
		// A tail far from the kernel's ACK timer is the body's own time
		// (a stream): it stays in the service time.
		name: "a slow body is not a stall", file: "concurrency-limit-jvm-ackstall-pid",
		edit: eachStep(func(s *result.Step) {
			if s.Latency.TTFB > 0 {
				s.Latency.TTFB = s.Latency.Mean - 150
			}
		}),
		class: "concurrency-limit", notEvidence: []string{"delayed ACK", "first byte"},
	}})
}
