package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The receive windows surge grants a server: it reads every body as it
// arrives (keeping at most Config.MaxBody of it), so large windows cost no
// memory and spare WINDOW_UPDATE frames. Variables for the tests.
var (
	h2StreamWindow uint32 = 4 << 20
	h2ConnWindow   uint32 = 16 << 20
)

// h2ReadBuf is the read buffer of each HTTP/2 connection.
const h2ReadBuf = 32 << 10

// A response's header list is capped as HTTP/1.1's head is (see
// h1parse.go): decoded, at h2MaxHeaderList bytes (counted as
// SETTINGS_MAX_HEADER_LIST_SIZE counts them), or the stream fails as
// protocol; encoded, a header block beyond h2MaxBlock fails the
// connection, so a hostile server cannot make surge buffer much. More
// than h2MaxInterim 1xx responses before the real one fail the stream.
const (
	h2MaxHeaderList = 64 << 10
	h2MaxBlock      = 256 << 10
	h2MaxInterim    = 5
)

// h2Slot is one of an origin's N connections: the connection its users'
// requests go on now (redialed when it fails or the server sends GOAWAY),
// and the requests waiting for it or for a stream on it. Its mutex guards
// every field of the slot, of its connections and of the streams on them.
type h2Slot struct {
	c       *Client
	host    *h2Host
	streams int // at most this many requests at once (the shape's M)

	mu        sync.Mutex
	conn      *h2Conn // where new streams go; nil when none
	dialing   bool
	closed    bool
	wait      h2Queue   // requests waiting for a connection or a stream
	dialFails int       // dials failed in a row
	notBefore time.Time // no dial before: see dialBackoff
	sleeping  bool      // the backoff timer will dial
	backoff   *time.Timer
}

// h2Conn is one HTTP/2 connection. Its reader goroutine reads and handles
// frames; writes go to wb, written by whoever finds the connection with no
// write under way and its reader about to wait for the network (see
// kick), so that the requests started while the reader handles a batch of
// frames go out together.
type h2Conn struct {
	sl   *h2Slot
	nc   net.Conn // the wire, or TLS over it
	wire *h2Wire
	br   *bufio.Reader
	fr   *http2.Framer
	enc  *hpack.Encoder
	dec  *hpack.Decoder

	wb, spare []byte // frames to write; the buffer being written
	hbuf      h2Buf  // an encoded header block
	encGen    uint64 // changes of the encoder's dynamic table: see headerBlock
	flushing  bool   // a goroutine is writing
	writes    uint64 // writes ended
	busy      bool   // the reader has frames to handle and will flush after
	dead      bool   // no new streams: failed or closed
	goaway    bool   // the server sent GOAWAY: no new streams
	ready     bool   // the server's first SETTINGS arrived

	streams  map[uint32]*h2Sender
	nextID   uint32
	active   int
	limit    int    // min(slot's streams, the server's MAX_CONCURRENT_STREAMS)
	peerMax  uint32 // the server's MAX_CONCURRENT_STREAMS
	peerWin  int32  // the server's INITIAL_WINDOW_SIZE
	peerMaxF uint32 // the server's MAX_FRAME_SIZE
	sendWin  int64  // the connection's send window
	blocked  []*h2Sender
	unacked  uint32    // body bytes received since the last connection WINDOW_UPDATE
	cur      *h2Sender // the stream whose header block is being decoded
	curEnd   bool      // the block under way ends its stream
	block    int       // bytes of the block under way
	finished []h2Done  // streams the reader ended, to call done for
}

type h2Done struct {
	s   *h2Sender
	res Result
}

// h2Buf collects what a Framer or an hpack.Encoder writes.
type h2Buf struct{ b []byte }

func (w *h2Buf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// h2Out is the Framer's writer: it appends to the connection's wb.
type h2Out h2Conn

func (w *h2Out) Write(p []byte) (int, error) { w.wb = append(w.wb, p...); return len(p), nil }

// usable reports whether new streams may go on the connection.
func (c *h2Conn) usable() bool { return c != nil && !c.dead && !c.goaway }

// canOpen reports whether a new stream may start now.
func (c *h2Conn) canOpen() bool { return c.usable() && c.ready && c.active < c.limit }

// pump opens streams for the waiting requests while the connection has
// room, and dials when there is no connection to wait for. Locked.
func (sl *h2Slot) pump() {
	c := sl.conn
	for sl.wait.len() > 0 && c.canOpen() {
		c.open(sl.wait.pop())
	}
	if sl.wait.len() == 0 || c.usable() || sl.dialing || sl.closed || sl.sleeping {
		if c != nil {
			c.kick()
		}
		return
	}
	if d := time.Until(sl.notBefore); d > 0 { // the last dial failed: back off
		sl.sleeping = true
		if sl.backoff == nil {
			sl.backoff = time.AfterFunc(d, sl.wake)
		} else {
			sl.backoff.Reset(d)
		}
		return
	}
	sl.dialing = true
	hs := &sl.c.h2
	hs.wg.Add(1)
	go sl.dial(hs.ctx)
}

// wake ends a backoff.
func (sl *h2Slot) wake() {
	sl.mu.Lock()
	sl.sleeping = false
	sl.pump()
	sl.mu.Unlock()
}

// dial opens a connection for the slot, on a goroutine of its own.
func (sl *h2Slot) dial(ctx context.Context) {
	defer sl.c.h2.wg.Done()
	c, err := sl.connect(ctx)
	sl.mu.Lock()
	sl.dialing = false
	if err == nil && sl.closed {
		c.nc.Close()
		err = net.ErrClosed
	}
	if err != nil {
		var failed []*h2Sender
		closed := sl.closed
		if !closed {
			sl.c.conns.dialErrors.Add(1)
			sl.dialFails++
			sl.notBefore = time.Now().Add(dialBackoff(sl.dialFails))
		}
		for sl.wait.len() > 0 {
			s := sl.wait.pop()
			s.stopTimer()
			failed = append(failed, s)
		}
		sl.mu.Unlock()
		for _, s := range failed {
			s.finish(Result{Class: classify(err, closed || s.ctx.Err() != nil)})
		}
		return
	}
	sl.dialFails = 0
	sl.conn = c
	sl.c.h2.wg.Add(1)
	go c.readLoop()
	sl.mu.Unlock()
}

// connect dials, shakes hands over TLS (choosing h2 through ALPN) and
// sends the connection preface with surge's settings.
func (sl *h2Slot) connect(ctx context.Context) (*h2Conn, error) {
	cl := sl.c
	ctx, cancel := context.WithTimeout(ctx, cl.cfg.Timeout)
	defer cancel()
	cl.conns.dials.Add(1)
	raw, err := cl.dial.dial(ctx, "tcp", sl.host.addr)
	if err != nil {
		return nil, err
	}
	c := &h2Conn{sl: sl, streams: make(map[uint32]*h2Sender), nextID: 1,
		peerMax: math.MaxUint32, peerWin: 65535, peerMaxF: 16384, sendWin: 65535, limit: sl.streams}
	c.wire = newH2Wire(c, cl.conns.wrap(raw))
	var nc net.Conn = c.wire
	if sl.host.tls != nil {
		tc := tls.Client(nc, sl.host.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		if tc.ConnectionState().NegotiatedProtocol != "h2" {
			nc.Close()
			return nil, errNoH2
		}
		nc = tc
	}
	c.nc = nc
	c.br = bufio.NewReaderSize(nc, h2ReadBuf)
	c.fr = http2.NewFramer((*h2Out)(c), c.br)
	c.fr.SetReuseFrames()
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.dec = hpack.NewDecoder(4096, c.onField)
	c.dec.SetMaxStringLength(h2MaxHeaderList)
	c.wb = append(c.wb, http2.ClientPreface...)
	c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: h2MaxHeaderList},
	)
	if h2ConnWindow > 65535 {
		c.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	}
	if deadline, ok := ctx.Deadline(); ok {
		nc.SetWriteDeadline(deadline)
	}
	_, err = nc.Write(c.wb)
	nc.SetWriteDeadline(time.Time{})
	c.wb = c.wb[:0]
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// close fails what waits and closes the slot's connection.
func (sl *h2Slot) close() {
	sl.mu.Lock()
	sl.closed = true
	if sl.backoff != nil {
		sl.backoff.Stop()
	}
	var failed []*h2Sender
	for sl.wait.len() > 0 {
		s := sl.wait.pop()
		s.stopTimer()
		failed = append(failed, s)
	}
	if c := sl.conn; c != nil {
		c.dead = true
		c.nc.Close()
	}
	sl.mu.Unlock()
	for _, s := range failed {
		s.finish(Result{Class: Canceled})
	}
}

// open starts s's request as a new stream. Locked.
func (c *h2Conn) open(s *h2Sender) {
	id := c.nextID
	c.nextID += 2
	if c.nextID >= 1<<31 { // stream ids run out: the next request redials
		c.goaway = true
	}
	c.streams[id] = s
	c.active++
	s.conn, s.id, s.state, s.writes = c, id, h2Open, c.writes
	s.sendWin = int64(c.peerWin)
	block := c.headerBlock(s)
	end := len(s.body) == 0
	first := block[:min(len(block), int(c.peerMaxF))]
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first,
		EndStream: end, EndHeaders: len(first) == len(block)})
	for block = block[len(first):]; len(block) > 0; {
		n := min(len(block), int(c.peerMaxF))
		c.fr.WriteContinuation(id, n == len(block), block[:n])
		block = block[n:]
	}
	if !end {
		c.sendBody(s)
	}
}

// headerBlock encodes s's header list. A list whose every field the
// encoder found in its tables encodes to one byte per field and changes
// nothing in them; as long as no other list changes them either (encGen
// counts the changes), a request that never varies encodes to the same
// bytes, which the sender keeps and reuses. Locked.
func (c *h2Conn) headerBlock(s *h2Sender) []byte {
	if s.static && s.enc.conn == c && s.enc.gen == c.encGen && s.enc.form == s.f {
		return s.enc.block
	}
	c.hbuf.b = c.hbuf.b[:0]
	for _, f := range s.fieldsOut {
		c.enc.WriteField(f)
	}
	block := c.hbuf.b
	for _, b := range block {
		if b&0x80 == 0 { // not an indexed field: the tables changed
			c.encGen++
			return block
		}
	}
	if s.static {
		s.enc.block = append(s.enc.block[:0], block...)
		s.enc.conn, s.enc.gen, s.enc.form = c, c.encGen, s.f
	}
	return block
}

// sendBody writes what the flow-control windows allow of s's request
// body; the rest waits for WINDOW_UPDATE. Locked.
func (c *h2Conn) sendBody(s *h2Sender) {
	for s.sent < len(s.body) {
		n := min(int64(len(s.body)-s.sent), s.sendWin, c.sendWin, int64(c.peerMaxF))
		if n <= 0 {
			if !s.blocked {
				s.blocked = true
				c.blocked = append(c.blocked, s)
			}
			return
		}
		end := s.sent+int(n) == len(s.body)
		c.fr.WriteData(s.id, end, s.body[s.sent:s.sent+int(n)])
		s.sent += int(n)
		s.sendWin -= n
		c.sendWin -= n
	}
}

// unblock sends the bodies that waited for window. Locked.
func (c *h2Conn) unblock() {
	blocked := c.blocked
	c.blocked = c.blocked[:0]
	for i, s := range blocked {
		blocked[i] = nil
		if s.state == h2Open && s.conn == c {
			s.blocked = false
			c.sendBody(s)
		}
	}
}

// drop takes s off the connection. Locked.
func (c *h2Conn) drop(s *h2Sender) {
	delete(c.streams, s.id)
	c.active--
	if s.blocked {
		s.blocked = false
		for i, b := range c.blocked {
			if b == s {
				c.blocked = append(c.blocked[:i], c.blocked[i+1:]...)
				break
			}
		}
	}
	if c.cur == s {
		c.cur = nil
	}
	s.conn, s.state = nil, h2Idle
	if c.goaway && c.active == 0 {
		c.dead = true
		c.nc.Close()
	}
}

// kick writes what is pending, unless a write is under way or the reader
// will write once it has handled the frames it holds. Locked; it unlocks
// while it writes.
func (c *h2Conn) kick() {
	if c.busy || c.flushing || len(c.wb) == 0 {
		return
	}
	c.flushing = true
	for len(c.wb) > 0 && !c.dead {
		out := c.wb
		c.wb = c.spare[:0]
		c.sl.mu.Unlock()
		_, err := c.nc.Write(out)
		c.sl.mu.Lock()
		c.writes++
		c.spare = out[:0]
		if err != nil {
			// The reader sees the connection fail and fails its streams.
			c.dead = true
			c.nc.Close()
		}
	}
	if c.dead {
		c.wb = c.wb[:0]
	}
	c.flushing = false
}

// h2Wire is a connection's socket. Once the reader has handled every
// frame (and TLS every record) read so far, it reads what the socket
// holds without waiting; only when that is nothing does it write what is
// pending, then wait. So the requests started while the reader handles
// all that arrived leave together, in one write, just before the reader
// may wait for the network: a write per few responses would cost more
// than the responses.
type h2Wire struct {
	*countConn
	c       *h2Conn
	reading bool // set once the connection is handed to its reader
	try     func(p []byte) (n int, err error, ok bool)
}

func newH2Wire(c *h2Conn, cc *countConn) *h2Wire {
	w := &h2Wire{countConn: cc, c: c}
	w.try = tryRead(cc)
	return w
}

func (w *h2Wire) Read(p []byte) (int, error) {
	if !w.reading {
		return w.countConn.Read(p)
	}
	if w.try != nil {
		if n, err, ok := w.try(p); ok {
			return n, err
		}
	}
	c := w.c
	c.sl.mu.Lock()
	c.busy = false
	c.kick()
	c.sl.mu.Unlock()
	return w.countConn.Read(p)
}

// readLoop reads and handles the connection's frames until it fails or
// is closed.
func (c *h2Conn) readLoop() {
	defer c.sl.c.h2.wg.Done()
	sl := c.sl
	var err error
	c.wire.reading = true
	for {
		var f http2.Frame
		f, err = c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				sl.mu.Lock()
				c.busy = true
				c.resetStream(se.StreamID, se.Code, ProtocolError)
				sl.mu.Unlock()
				c.deliver()
				continue
			}
			break
		}
		sl.mu.Lock()
		c.busy = true
		err = c.handle(f)
		sl.mu.Unlock()
		c.deliver()
		if err != nil {
			break
		}
	}
	c.nc.Close()
	sl.mu.Lock()
	c.dead = true
	if sl.conn == c {
		sl.conn = nil
	}
	class := classifyH2(err)
	for _, s := range c.streams {
		c.end(s, Result{Class: class})
	}
	sl.pump()
	sl.mu.Unlock()
	c.deliver()
}

// classifyH2 sorts the error that ended a connection.
func classifyH2(err error) Class {
	var ce http2.ConnectionError
	var de hpack.DecodingError
	switch {
	case errors.As(err, &ce), errors.As(err, &de), errors.Is(err, http2.ErrFrameTooLarge):
		return ProtocolError
	case err == nil:
		return Reset
	}
	return classify(err, false)
}

// deliver calls done for the streams the reader ended.
func (c *h2Conn) deliver() {
	for i, d := range c.finished {
		c.finished[i] = h2Done{}
		d.s.finish(d.res)
	}
	c.finished = c.finished[:0]
}

// end ends s's stream with res, to be delivered after the lock. Locked.
func (c *h2Conn) end(s *h2Sender, res Result) {
	c.drop(s)
	s.stopTimer()
	if res.Class != OK && s.ctx.Err() != nil || c.sl.closed && res.Class != OK {
		res.Class = Canceled
	}
	c.finished = append(c.finished, h2Done{s, res})
}

// resetStream fails stream id after a stream error of the server's. Locked.
func (c *h2Conn) resetStream(id uint32, code http2.ErrCode, class Class) {
	c.fr.WriteRSTStream(id, code)
	if s := c.streams[id]; s != nil {
		c.end(s, s.partial(class))
		c.sl.pump()
	}
}

// handle handles one frame. Locked.
func (c *h2Conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.HeadersFrame:
		c.cur, c.block = c.streams[f.StreamID], 0
		return c.onBlock(f.HeaderBlockFragment(), f.HeadersEnded(), f.StreamEnded())
	case *http2.ContinuationFrame:
		return c.onBlock(f.HeaderBlockFragment(), f.HeadersEnded(), c.curEnd)
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if err := f.ForeachSetting(c.onSetting); err != nil {
			return err
		}
		c.fr.WriteSettingsAck()
		c.ready = true
		c.limit = int(min(uint32(c.sl.streams), c.peerMax))
		if c.sl.conn == c {
			c.sl.pump()
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.sendWin += int64(f.Increment)
			c.unblock()
		} else if s := c.streams[f.StreamID]; s != nil {
			s.sendWin += int64(f.Increment)
			if s.blocked {
				c.unblock()
			}
		}
	case *http2.PingFrame:
		if !f.IsAck() {
			c.fr.WritePing(true, f.Data)
		}
	case *http2.RSTStreamFrame:
		if s := c.streams[f.StreamID]; s != nil {
			c.end(s, s.partial(Reset))
			c.sl.pump()
		}
	case *http2.GoAwayFrame:
		c.goaway = true
		if c.sl.conn == c {
			c.sl.conn = nil // the next request dials
		}
		for id, s := range c.streams {
			if id > f.LastStreamID {
				c.end(s, Result{Class: Reset})
			}
		}
		if c.active == 0 {
			c.dead = true
			c.nc.Close()
		}
		c.sl.pump()
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // push was disabled
	}
	return nil
}

func (c *h2Conn) onSetting(s http2.Setting) error {
	if err := s.Valid(); err != nil {
		return err
	}
	switch s.ID {
	case http2.SettingMaxConcurrentStreams:
		c.peerMax = s.Val
	case http2.SettingInitialWindowSize:
		delta := int64(s.Val) - int64(c.peerWin)
		c.peerWin = int32(s.Val)
		for _, st := range c.streams {
			st.sendWin += delta
		}
		if delta > 0 {
			c.unblock()
		}
	case http2.SettingMaxFrameSize:
		c.peerMaxF = s.Val
	case http2.SettingHeaderTableSize:
		c.enc.SetMaxDynamicTableSizeLimit(s.Val)
		c.encGen++
	}
	return nil
}

// onBlock decodes a header block fragment of c.cur's stream (nil for a
// stream no longer known, whose block is decoded all the same, to keep
// HPACK's state). Locked.
func (c *h2Conn) onBlock(frag []byte, ended, streamEnded bool) error {
	c.curEnd = streamEnded
	if c.block += len(frag); c.block > h2MaxBlock {
		return malformedf("a response header block over 256 KiB")
	}
	if _, err := c.dec.Write(frag); err != nil {
		return err
	}
	if !ended {
		return nil
	}
	if err := c.dec.Close(); err != nil {
		return err
	}
	s := c.cur
	c.cur = nil
	if s == nil {
		return nil
	}
	if s.listSize > h2MaxHeaderList {
		c.resetStream(s.id, http2.ErrCodeProtocol, ProtocolError)
		return nil
	}
	if s.code >= 100 && s.code < 200 { // an interim response: the real one follows
		if s.interim++; streamEnded || s.interim > h2MaxInterim {
			c.resetStream(s.id, http2.ErrCodeProtocol, ProtocolError)
			return nil
		}
		s.code, s.listSize = 0, 0
		s.hdr = s.hdr[:0]
		return nil
	}
	if s.code == 0 {
		c.resetStream(s.id, http2.ErrCodeProtocol, ProtocolError)
		return nil
	}
	s.headed = true
	if streamEnded {
		c.complete(s)
	}
	return nil
}

// onField takes one response header field of c.cur's stream.
func (c *h2Conn) onField(f hpack.HeaderField) {
	s := c.cur
	if s == nil {
		return
	}
	if s.listSize += len(f.Name) + len(f.Value) + 32; s.listSize > h2MaxHeaderList {
		return // the stream fails at the end of the block
	}
	if s.headed { // trailers: kept, not interpreted
		if s.x.Req.KeepHeaders && !f.IsPseudo() {
			s.keepField(f)
		}
		return
	}
	switch f.Name {
	case ":status":
		s.code = parseStatus(f.Value)
		return
	case "content-length":
		if n, err := strconv.ParseInt(f.Value, 10, 64); err == nil && n >= 0 {
			s.contentLen = n
		}
	case "retry-after":
		s.retryAfter = true
	}
	if s.x.Req.KeepHeaders && !f.IsPseudo() {
		s.keepField(f)
	}
}

// parseStatus parses a three-digit status code, 0 when it is not one.
func parseStatus(v string) int {
	if len(v) != 3 {
		return 0
	}
	n := 0
	for i := range 3 {
		if v[i] < '0' || v[i] > '9' {
			return 0
		}
		n = n*10 + int(v[i]-'0')
	}
	if n < 100 {
		return 0
	}
	return n
}

// onData takes a DATA frame. Locked.
func (c *h2Conn) onData(f *http2.DataFrame) error {
	n := f.Length // padding included: it counts against the windows
	if c.unacked += n; c.unacked >= h2ConnWindow/2 {
		c.fr.WriteWindowUpdate(0, c.unacked)
		c.unacked = 0
	}
	s := c.streams[f.StreamID]
	if s == nil {
		return nil
	}
	if !s.headed {
		c.resetStream(s.id, http2.ErrCodeProtocol, ProtocolError)
		return nil
	}
	data := f.Data()
	s.bodyLen += int64(len(data))
	if s.x.Req.KeepBody {
		s.keep.Write(data)
	}
	if f.StreamEnded() {
		c.complete(s)
		return nil
	}
	if s.unacked += n; s.unacked >= h2StreamWindow/2 {
		c.fr.WriteWindowUpdate(s.id, s.unacked)
		s.unacked = 0
	}
	return nil
}

// complete ends a stream whose response arrived whole. Locked.
func (c *h2Conn) complete(s *h2Sender) {
	res := Result{Code: s.code, Class: ClassOfStatus(s.code), Proto: 2, RetryAfter: s.retryAfter}
	if s.contentLen >= 0 && s.bodyLen != s.contentLen && s.x.Req.Method != "HEAD" && s.code != 204 && s.code != 304 {
		res.Class = ProtocolError // the body disagrees with its Content-Length
	}
	if s.sent < len(s.body) {
		// The server answered before it read the whole request body: the
		// rest is not wanted.
		c.fr.WriteRSTStream(s.id, http2.ErrCodeNo)
	}
	if s.x.Req.KeepBody {
		res.Body = s.keep.buf
	}
	if s.x.Req.KeepHeaders {
		res.Header = s.hdr
	}
	c.end(s, res)
	c.sl.pump()
}
