package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostileServer is a loopback target that misbehaves in one way per path
// (and, for the response that comes before the request, per listener).
type hostileServer struct {
	l, early net.Listener
	bomb     []byte // a gzip body that inflates to 64 MiB
	wg       sync.WaitGroup
	done     chan struct{}
}

func newHostileServer(t *testing.T) *hostileServer {
	t.Helper()
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zero)
	}
	zw.Close()
	h := &hostileServer{bomb: z.Bytes(), done: make(chan struct{})}
	var err error
	if h.l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if h.early, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go h.serve(h.l, h.handle)
	go h.serve(h.early, h.answerFirst)
	t.Cleanup(func() {
		close(h.done)
		h.l.Close()
		h.early.Close()
		h.wg.Wait()
	})
	return h
}

func (h *hostileServer) url(path string) string { return "http://" + h.l.Addr().String() + path }

func (h *hostileServer) serve(l net.Listener, handle func(net.Conn, *bufio.Reader)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer c.Close()
			go func() { <-h.done; c.Close() }()
			handle(c, bufio.NewReader(c))
		}()
	}
}

// pace slows endless streams a little, so that they do not take the
// machine's CPUs from the run they test.
func pace() { time.Sleep(time.Millisecond) }

func (h *hostileServer) handle(c net.Conn, br *bufio.Reader) {
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		switch req.URL.Path {
		case "/ok":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			continue
		case "/reset":
			c.(*net.TCPConn).SetLinger(0)
		case "/silent":
			io.Copy(io.Discard, br) // until the client gives up
		case "/bad-status":
			io.WriteString(c, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
		case "/big-headers":
			w := bufio.NewWriter(c)
			w.WriteString("HTTP/1.1 200 OK\r\n")
			line := "X-Filler: " + strings.Repeat("f", 990) + "\r\n"
			for range 2 << 10 { // 2 MB of headers
				if _, err := w.WriteString(line); err != nil {
					return
				}
			}
			w.WriteString("Content-Length: 0\r\n\r\n")
			w.Flush()
		case "/endless-line":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Endless: ")
			chunk := bytes.Repeat([]byte("e"), 16<<10)
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
				pace()
			}
		case "/endless-chunked":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
			chunk := []byte(fmt.Sprintf("4000\r\n%s\r\n", bytes.Repeat([]byte("c"), 16<<10)))
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
				pace()
			}
		case "/short-body":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
		case "/one-byte-a-second":
			for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				select {
				case <-time.After(time.Second):
				case <-h.done:
					return
				}
			}
			continue
		case "/endless-1xx":
			for {
				if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
					return
				}
				pace()
			}
		case "/http10":
			io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\nno length: the body runs to the close")
		case "/gzip-bomb":
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", len(h.bomb))
			c.Write(h.bomb)
			continue
		case "/close":
		}
		return // and close
	}
}

// answerFirst answers before the request arrives, then closes once it has.
func (h *hostileServer) answerFirst(c net.Conn, br *bufio.Reader) {
	io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	http.ReadRequest(br)
}

// hostileRun is one bounded run of the binary, with its peak RSS.
type hostileRun struct {
	res    result
	code   int
	took   time.Duration
	maxRSS int64 // bytes
	stderr string
}

func runHostile(t *testing.T, url string, extra ...string) (hostileRun, error) {
	path := filepath.Join(t.TempDir(), "r.json")
	args := append([]string{"run", "-q", "-u", "16", "-d", "1s", "--timeout", "500ms", "--grace", "500ms", "--json", path}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, surgeBin, append(args, url)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return hostileRun{}, err
	}
	// The child's own high-water mark, read while it runs (the rusage
	// of a child also counts its parent's memory from before the exec).
	stop := make(chan struct{})
	hwm := make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := vmHWM(cmd.Process.Pid); v > peak {
				peak = v
			}
			select {
			case <-stop:
				hwm <- peak
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	hr := hostileRun{took: time.Since(start), stderr: stderr.String(), maxRSS: <-hwm}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return hr, err
	}
	hr.code = cmd.ProcessState.ExitCode()
	b, err := os.ReadFile(path)
	if err != nil {
		return hr, fmt.Errorf("no JSON result: %v (stderr %q)", err, hr.stderr)
	}
	if hr.res, err = decode(b); err != nil {
		return hr, fmt.Errorf("invalid JSON result: %v", err)
	}
	return hr, nil
}

func TestHostileServers(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("peak memory is read from /proc")
	}
	h := newHostileServer(t)
	base, err := runHostile(t, h.url("/ok"))
	if err != nil || base.res.Summary.Errors.Count != 0 || base.res.Summary.Requests == 0 {
		t.Fatalf("baseline run: %v %+v", err, base.res.Summary)
	}
	const grace = 3 * time.Second // over -d 1s: the 500 ms timeout and grace, process start and exit
	cases := []struct {
		path  string
		class string // the class of (almost) every request; "ok" for none
		url   string
	}{
		{"/reset", "reset", ""},
		{"/silent", "timeout", ""},
		{"/bad-status", "protocol", ""},
		{"/big-headers", "protocol", ""},
		{"/endless-line", "protocol", ""},
		{"/endless-chunked", "timeout", ""},
		{"/short-body", "protocol", ""},
		{"/one-byte-a-second", "timeout", ""},
		{"/endless-1xx", "protocol", ""},
		{"/http10", "ok", ""},
		{"/gzip-bomb", "ok", ""},
		{"/close", "reset", ""},
		{"response before request", "ok", "http://" + h.early.Addr().String() + "/"},
	}
	type outcome struct {
		hostileRun
		err error
	}
	outs := make([]outcome, len(cases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, tc := range cases {
		u := tc.url
		if u == "" {
			u = h.url(tc.path)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			hr, err := runHostile(t, u)
			outs[i] = outcome{hr, err}
		}()
	}
	wg.Wait()
	for i, tc := range cases {
		o := outs[i]
		if o.err != nil {
			t.Errorf("%s: %v", tc.path, o.err)
			continue
		}
		s := o.res.Summary
		if o.code != 0 || strings.Contains(o.stderr, "panic") {
			t.Errorf("%s: exit %d, stderr %q", tc.path, o.code, o.stderr)
		}
		if o.took > time.Second+grace {
			t.Errorf("%s: the run took %v, want at most -d 1s + %v", tc.path, o.took, grace)
		}
		got := s.Errors.ByClass[tc.class]
		if tc.class == "ok" {
			got = s.Requests - s.Errors.Count
		}
		if s.Requests == 0 || got*10 < s.Requests*9 {
			t.Errorf("%s: %d requests, by class %v, codes %v: want (nearly) all %s", tc.path, s.Requests, s.Errors.ByClass, s.StatusCodes, tc.class)
		}
		// Status codes count completed responses only.
		var codes int64
		for _, n := range s.StatusCodes {
			codes += n
		}
		if codes != s.Requests-s.Errors.Count+s.Errors.ByClass["http_4xx"]+s.Errors.ByClass["http_5xx"]+s.Errors.ByClass["check"] {
			t.Errorf("%s: status codes %v disagree with %d requests, errors %v", tc.path, s.StatusCodes, s.Requests, s.Errors.ByClass)
		}
		if o.maxRSS > base.maxRSS+8<<20 {
			t.Errorf("%s: peak RSS %d MB, an ordinary run at the same users %d MB", tc.path, o.maxRSS>>20, base.maxRSS>>20)
		}
		t.Logf("%-24s %5d requests  %v  peak RSS %3d MB (ordinary %d MB)  took %v", tc.path, s.Requests, s.Errors.ByClass, o.maxRSS>>20, base.maxRSS>>20, o.took.Round(10*time.Millisecond))
	}
}

// vmHWM reads a process's peak resident set size from /proc, in bytes;
// 0 once it is gone.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
