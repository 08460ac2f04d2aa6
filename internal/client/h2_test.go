package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/tmpl"
)

// h2cServer starts net/http's server speaking h2c with prior knowledge.
func h2cServer(t *testing.T, h http.Handler, conf *http.HTTP2Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.HTTP2 = conf
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// h2WaitFor polls cond until it holds or the deadline passes.
func h2WaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHTTP2RespectsTheServersStreamLimit(t *testing.T) {
	// The shape asks for 10 streams; the server allows 3: it never sees
	// more than 3 at once, and every request gets through.
	var now, top, served atomic.Int64
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		for {
			old := top.Load()
			if n <= old || top.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // the handler's work: requests overlap
		now.Add(-1)
		served.Add(1)
	}), &http.HTTP2Config{MaxConcurrentStreams: 3})
	c := newClient(t, client.Config{Timeout: 10 * time.Second, Protocol: client.HTTP2, Conns: 10, H2Conns: 1, H2Streams: 10})
	r := mustRequest(t, "GET", srv.URL+"/", nil, "")
	var wg sync.WaitGroup
	for u := range 10 {
		b := client.Bind(c, r, u)
		wg.Go(func() {
			for range 20 {
				if res := b.Do(context.Background()); res.Class != client.OK || res.Proto != 2 {
					t.Errorf("result %+v", res)
					return
				}
			}
		})
	}
	wg.Wait()
	if served.Load() != 200 {
		t.Fatalf("server served %d, want 200", served.Load())
	}
	if top.Load() > 3 {
		t.Fatalf("server saw %d streams at once, it allows 3", top.Load())
	}
	if top.Load() < 2 {
		t.Fatalf("server saw at most %d stream at once: the connection was not shared", top.Load())
	}
}

func TestHTTP2LargeBodiesCrossTheWindows(t *testing.T) {
	defer client.SetH2Windows(65535, 65535)()
	const size = 3 << 20
	big := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	var got atomic.Int64
	var sum [32]byte
	var mu sync.Mutex
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			b, _ := io.ReadAll(r.Body)
			got.Store(int64(len(b)))
			mu.Lock()
			sum = sha256.Sum256(b)
			mu.Unlock()
			return
		}
		w.Header().Set("X-Size", "3MiB")
		w.Write(big)
	}), nil)
	c := newClient(t, client.Config{Timeout: 10 * time.Second, Protocol: client.HTTP2, MaxBody: 1000})
	// A response 48 times the windows: it needs WINDOW_UPDATEs to arrive.
	r, err := client.Build(client.Spec{URL: srv.URL + "/", KeepBody: true, KeepHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	b := client.Bind(c, r, 0)
	for range 2 {
		res := b.Do(context.Background())
		if res.Class != client.OK || len(res.Body) != 1000 || !bytes.Equal(res.Body, big[:1000]) {
			t.Fatalf("result %v %v, body %d bytes: want OK with the first 1000 bytes kept", res.Code, res.Class, len(res.Body))
		}
		if !strings.Contains(strings.ToLower(string(res.Header)), "x-size: 3mib\r\n") {
			t.Fatalf("header lines %q: no X-Size", res.Header)
		}
	}
	if in := c.Conns().BytesIn; in < 2*size {
		t.Fatalf("bytes in %d, want at least the two bodies (%d)", in, 2*size)
	}
	// A request body larger than the server's windows waits for them.
	post := mustRequest(t, "POST", srv.URL+"/", nil, string(big))
	if res := client.Bind(c, post, 0).Do(context.Background()); res.Class != client.OK {
		t.Fatalf("POST: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Load() != size || sum != sha256.Sum256(big) {
		t.Fatalf("server read %d bytes (sum ok %v), want the %d sent", got.Load(), sum == sha256.Sum256(big), size)
	}
	if out := c.Conns().BytesOut; out < size {
		t.Fatalf("bytes out %d, want at least the body (%d)", out, size)
	}
}

// frameServer is an HTTP/2 server (h2c) written on x/net/http2's Framer,
// for what net/http's server will not do on demand: GOAWAY mid-run, a
// RST_STREAM, a request never answered. It counts what it sees.
type frameServer struct {
	addr string
	// act says what to do with the n-th request: "ok", "rst", "hang",
	// "goaway", "interim"; act(-n) which answer to send: "ok", "503" (with
	// Retry-After), "huge" (a header list over 64 KiB).
	act      func(n int64) string
	accepted atomic.Int64
	requests atomic.Int64
	answered atomic.Int64
	canceled atomic.Int64 // RST_STREAM CANCEL received
	wg       sync.WaitGroup
}

func newFrameServer(t testing.TB, act func(n int64) string) *frameServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &frameServer{addr: l.Addr().String(), act: act}
	var conns sync.Map
	s.wg.Go(func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			conns.Store(nc, true)
			s.wg.Go(func() { s.serve(nc) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		s.wg.Wait()
	})
	return s
}

func (s *frameServer) serve(nc net.Conn) {
	defer nc.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(nc, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(nc, nc)
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	dec := hpack.NewDecoder(4096, nil)
	fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
	goaway := false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.RSTStreamFrame:
			if f.ErrCode == http2.ErrCodeCancel {
				s.canceled.Add(1)
			}
		case *http2.HeadersFrame:
			if _, err := dec.DecodeFull(f.HeaderBlockFragment()); err != nil {
				return
			}
			if goaway {
				continue // above the last stream id: never answered
			}
			n := s.requests.Add(1)
			switch s.act(n) {
			case "rst":
				fr.WriteRSTStream(f.StreamID, http2.ErrCodeInternal)
				continue
			case "hang":
				continue
			case "goaway":
				goaway = true
				fr.WriteGoAway(f.StreamID, http2.ErrCodeNo, nil)
			case "interim": // 6 × 103 Early Hints, more than a client takes
				for range 6 {
					hbuf.Reset()
					enc.WriteField(hpack.HeaderField{Name: ":status", Value: "103"})
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
				}
			}
			s.answered.Add(1) // before the answer: the client may count it at once
			hbuf.Reset()
			switch s.act(-n) {
			case "503":
				enc.WriteField(hpack.HeaderField{Name: ":status", Value: "503"})
				enc.WriteField(hpack.HeaderField{Name: "retry-after", Value: "7"})
			case "huge": // a header list over 64 KiB, in CONTINUATIONs
				enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
				for i := range 5 {
					enc.WriteField(hpack.HeaderField{Name: "x-big", Value: strings.Repeat(string(rune('a'+i)), 15000)})
				}
			default:
				enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			}
			enc.WriteField(hpack.HeaderField{Name: "content-length", Value: "2"})
			if block := hbuf.Bytes(); len(block) > 16384 {
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: block[:16384]})
				for block = block[16384:]; len(block) > 0; {
					k := min(len(block), 16384)
					fr.WriteContinuation(f.StreamID, k == len(block), block[:k])
					block = block[k:]
				}
				fr.WriteData(f.StreamID, true, []byte("ok"))
				continue
			}
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			fr.WriteData(f.StreamID, true, []byte("ok"))
		}
	}
}

func TestHTTP2GoawayMidRunRedials(t *testing.T) {
	// Every tenth request is the last its connection takes.
	srv := newFrameServer(t, func(n int64) string {
		if n%10 == 0 {
			return "goaway"
		}
		return "ok"
	})
	c := newClient(t, client.Config{Timeout: 5 * time.Second, Protocol: client.HTTP2, Conns: 4, H2Conns: 1, H2Streams: 4})
	r := mustRequest(t, "GET", "http://"+srv.addr+"/", nil, "")
	var ok, reset, other atomic.Int64
	var wg sync.WaitGroup
	for u := range 4 {
		b := client.Bind(c, r, u)
		wg.Go(func() {
			for range 50 {
				switch res := b.Do(context.Background()); res.Class {
				case client.OK:
					ok.Add(1)
				case client.Reset:
					reset.Add(1) // sent above the last stream id
				default:
					other.Add(1)
					t.Errorf("result %+v", res)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != srv.answered.Load() || ok.Load()+reset.Load() != 200 || other.Load() != 0 {
		t.Fatalf("ok %d reset %d other %d, server answered %d: want every answer ok, the rest reset", ok.Load(), reset.Load(), other.Load(), srv.answered.Load())
	}
	if a := srv.accepted.Load(); a < ok.Load()/10 {
		t.Fatalf("%d connections for %d answers: GOAWAY every 10 answers should have redialed each time", a, ok.Load())
	}
	if st := c.Conns(); st.Dials != srv.accepted.Load() || st.DialErrors != 0 {
		t.Fatalf("conn stats %+v, server accepted %d", st, srv.accepted.Load())
	}
}

func TestHTTP2ServerResetAndTimeout(t *testing.T) {
	srv := newFrameServer(t, func(n int64) string {
		switch n {
		case 2:
			return "rst"
		case 3:
			return "hang"
		}
		return "ok"
	})
	c := newClient(t, client.Config{Timeout: 300 * time.Millisecond, Protocol: client.HTTP2})
	b := client.Bind(c, mustRequest(t, "GET", "http://"+srv.addr+"/", nil, ""), 0)
	want := []client.Class{client.OK, client.Reset, client.Timeout, client.OK}
	for i, w := range want {
		start := time.Now()
		res := b.Do(context.Background())
		if res.Class != w {
			t.Fatalf("request %d: %+v, want %v", i+1, res, w)
		}
		if w == client.Timeout && (time.Since(start) < 300*time.Millisecond || time.Since(start) > 3*time.Second) {
			t.Fatalf("timeout after %v, want 300ms", time.Since(start))
		}
	}
	// The request that timed out was reset, CANCEL, on the same connection.
	h2WaitFor(t, "the CANCEL", func() bool { return srv.canceled.Load() == 1 })
	if srv.accepted.Load() != 1 {
		t.Fatalf("%d connections, want 1: a reset stream does not cost the connection", srv.accepted.Load())
	}
	// The run's end cancels a request in flight: Canceled, not a failure.
	c2 := newClient(t, client.Config{Timeout: time.Minute, Protocol: client.HTTP2})
	srv2 := newFrameServer(t, func(int64) string { return "hang" })
	b2 := client.Bind(c2, mustRequest(t, "GET", "http://"+srv2.addr+"/", nil, ""), 0)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if res := b2.Do(ctx); res.Class != client.Canceled {
		t.Fatalf("result %+v, want canceled", res)
	}
	h2WaitFor(t, "the CANCEL of the canceled request", func() bool { return srv2.canceled.Load() == 1 })
}

func TestHTTP2HostileAndOddAnswers(t *testing.T) {
	srv := newFrameServer(t, func(n int64) string {
		switch n {
		case 1, -2:
			return "ok"
		case 2:
			return "interim"
		case -3:
			return "503"
		case -4:
			return "huge"
		}
		return "ok"
	})
	c := newClient(t, client.Config{Timeout: 5 * time.Second, Protocol: client.HTTP2})
	r, err := client.Build(client.Spec{URL: "http://" + srv.addr + "/", KeepHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	b := client.Bind(c, r, 0)
	for i, want := range []struct {
		class client.Class
		code  int
		retry bool
		hdr   string
	}{
		{client.OK, 200, false, "content-length: 2\r\n"},
		{client.ProtocolError, 0, false, ""}, // six interim answers
		{client.HTTP5xx, 503, true, "retry-after: 7\r\ncontent-length: 2\r\n"},
		{client.ProtocolError, 0, false, ""}, // 75 KB of header lines
		{client.OK, 200, false, "content-length: 2\r\n"},
	} {
		res := b.Do(context.Background())
		if res.Class != want.class || res.Code != want.code || res.RetryAfter != want.retry || want.hdr != "" && string(res.Header) != want.hdr {
			t.Fatalf("answer %d: %+v (header %q), want %v %d retry-after %v header %q", i+1, res, res.Header, want.class, want.code, want.retry, want.hdr)
		}
	}
	if srv.accepted.Load() != 1 {
		t.Fatalf("%d connections: a failed stream should not cost the connection", srv.accepted.Load())
	}
}

func TestHTTP2StarterAndNoLeaks(t *testing.T) {
	// The client's goroutines end with Close; the server's are its own.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/surgeload/surge/internal/client_test.(*frameServer).serve"),
		goleak.IgnoreAnyFunction("github.com/surgeload/surge/internal/client_test.newFrameServer.func1"))
	srv := newFrameServer(t, func(int64) string { return "ok" })
	c, err := client.New(client.Config{Timeout: 5 * time.Second, Protocol: client.HTTP2, Conns: 8, H2Conns: 2, H2Streams: 4})
	if err != nil {
		t.Fatal(err)
	}
	r := mustRequest(t, "GET", "http://"+srv.addr+"/", nil, "")
	// Users driven the engine's way: the next request starts from done.
	var wg sync.WaitGroup
	var ok atomic.Int64
	for u := range 8 {
		b := client.Bind(c, r, u)
		if !b.Starter() {
			t.Fatal("an HTTP/2 sender is not a Starter")
		}
		left := 100
		var done func(client.Result)
		done = func(res client.Result) {
			if res.Class == client.OK && res.Proto == 2 {
				ok.Add(1)
			}
			if left--; left > 0 {
				b.Start(context.Background(), done)
				return
			}
			wg.Done()
		}
		wg.Add(1)
		b.Start(context.Background(), done)
	}
	wg.Wait()
	if ok.Load() != 800 || srv.answered.Load() != 800 || srv.accepted.Load() != 2 {
		t.Fatalf("ok %d, server answered %d on %d connections: want 800 on 2", ok.Load(), srv.answered.Load(), srv.accepted.Load())
	}
	if open := c.Conns().Open; open != 2 {
		t.Fatalf("%d connections open, want 2", open)
	}
	c.Close()
	if open := c.Conns().Open; open != 0 {
		t.Fatalf("%d connections open after Close", open)
	}
}

func TestHTTP2DialFailuresBackOff(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := newClient(t, client.Config{Timeout: time.Second, Protocol: client.HTTP2})
	b := client.Bind(c, mustRequest(t, "GET", "http://"+addr+"/", nil, ""), 0)
	start := time.Now()
	for range 4 {
		if res := b.Do(context.Background()); res.Class != client.Refused {
			t.Fatalf("result %+v, want refused", res)
		}
	}
	// Backoff between the dials: 10, 20 and 40 ms at least.
	if d := time.Since(start); d < 70*time.Millisecond {
		t.Fatalf("4 refused dials in %v: no backoff", d)
	}
	if st := c.Conns(); st.Dials != 4 || st.DialErrors != 4 {
		t.Fatalf("conn stats %+v, want 4 dials, 4 failed", st)
	}
}

// BenchmarkHTTP2Streams runs 50 users' requests on one h2c connection of
// 50 streams, the users driven from done as the engine drives them. Run
// with -benchmem and -memprofile to see the client's allocations per
// request (the server's are in the same process).
func BenchmarkHTTP2Streams(b *testing.B) {
	srv := newFrameServer(b, func(int64) string { return "ok" })
	c, err := client.New(client.Config{Timeout: 10 * time.Second, Protocol: client.HTTP2, Conns: 50, H2Conns: 1, H2Streams: 50})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r, _ := client.NewRequest("GET", "http://"+srv.addr+"/", nil, nil)
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for u := range 50 {
		bd := client.Bind(c, r, u)
		var done func(client.Result)
		done = func(res client.Result) {
			if res.Class != client.OK {
				b.Errorf("result %+v", res)
			}
			if left.Add(-1) >= 0 {
				bd.Start(context.Background(), done)
				return
			}
			wg.Done()
		}
		wg.Add(1)
		if left.Add(-1) >= 0 {
			bd.Start(context.Background(), done)
		} else {
			wg.Done()
		}
	}
	wg.Wait()
}

func TestHTTP2HeaderBlocksStayRightAsTheTablesChange(t *testing.T) {
	// One user alternates a request that never varies (its header block
	// is encoded once and reused while the encoder's tables hold still)
	// with one whose path varies (each adds to those tables, so the
	// reused block must be encoded again). The server must see each
	// request as it was meant.
	var mu sync.Mutex
	var seen []string
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI()+" "+r.Header.Get("X-A")+" "+r.Header.Get("User-Agent"))
		mu.Unlock()
	}), nil)
	c := newClient(t, client.Config{Timeout: 5 * time.Second, Protocol: client.HTTP2})
	static := mustRequest(t, "GET", srv.URL+"/static", http.Header{"X-A": {"same"}}, "")
	varying := mustRequest(t, "GET", srv.URL+"/v?n={{n}}", http.Header{"X-A": {"n{{n}}"}}, "")
	s := c.NewSender(0, static, varying)
	v := tmpl.Values{Run: c.RunID()}
	var want []string
	for i := range 30 {
		v.N++
		r := static
		w := "/static same " + "surge/"
		if i%3 == 2 {
			r = varying
			w = fmt.Sprintf("/v?n=%d n%d surge/", v.N, v.N)
		}
		want = append(want, w)
		if res := s.Do(context.Background(), &client.Exchange{Req: r, Vals: &v}); res.Class != client.OK {
			t.Fatalf("request %d: %+v", i+1, res)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range want {
		if !strings.HasPrefix(seen[i], want[i]) {
			t.Fatalf("request %d: server saw %q, want %q…", i+1, seen[i], want[i])
		}
	}
}

func TestHTTP2ServerThatStopsReadingCostsItsConnection(t *testing.T) {
	// The server grants windows far larger than any socket buffer, then
	// never reads: a large body fills the socket and its write never
	// ends. The request times out, and the connection is dropped with it
	// so that the next request dials rather than wait behind that write.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	var conns sync.WaitGroup
	stop := make(chan struct{})
	conns.Go(func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns.Go(func() {
				defer nc.Close()
				io.ReadFull(nc, make([]byte, len(http2.ClientPreface)))
				fr := http2.NewFramer(nc, nc)
				fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
				fr.WriteWindowUpdate(0, 1<<31-1-65535)
				<-stop // and never read again
			})
		}
	})
	defer func() { close(stop); l.Close(); conns.Wait() }()
	c := newClient(t, client.Config{Timeout: 500 * time.Millisecond, Protocol: client.HTTP2})
	post := mustRequest(t, "POST", "http://"+l.Addr().String()+"/", nil, strings.Repeat("x", 40<<20))
	b := client.Bind(c, post, 0)
	for i := range 3 {
		start := time.Now()
		if res := b.Do(context.Background()); res.Class != client.Timeout {
			t.Fatalf("request %d: %+v, want a timeout", i+1, res)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("request %d timed out after %v, want 500ms", i+1, d)
		}
	}
	// The first timeout drops the connection if its write had begun by
	// then (under the race detector, copying the body may take longer);
	// the second's, on the same connection, does for sure.
	if accepted.Load() < 2 {
		t.Fatalf("%d connection for 3 requests, want more: the stuck one must be dropped", accepted.Load())
	}
}
