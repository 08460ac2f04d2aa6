package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrMalformed marks a response that is not valid HTTP/1.x.
var ErrMalformed = errors.New("malformed HTTP response")

// maxHeadBytes bounds the size of a response head, and maxHeadLine the
// size of one line of it: a head that never ends (one endless header or
// status line) fails as a protocol error once it passes them, instead of
// making every connection buffer it. Common servers refuse request heads
// past 8 to 64 KiB; responses this large are not real.
const (
	maxHeadBytes = 64 << 10
	maxHeadLine  = 16 << 10
)

// maxInterim bounds the interim (1xx) responses before the real one, as
// net/http does: a server sending them for ever is broken.
const maxInterim = 5

// h1Response is what the parser learns about one response.
type h1Response struct {
	bodyLen int64 // body bytes read
	code    int32
	close   bool // the connection cannot carry another request
	// retryAfter is true when the final head carried Retry-After.
	retryAfter bool
}

// framing is what a response head says about its body.
type framing struct {
	length    int64
	chunked   bool
	hasLength bool
	keepAlive bool // Connection: keep-alive (for HTTP/1.0)
}

// maxChunkLine bounds a chunk-size line.
const maxChunkLine = 4 << 10

// pstate is where the parser is in a response.
type pstate uint8

const (
	sStatus     pstate = iota // the status line
	sHeader                   // header lines, up to the empty one
	sBody                     // left bytes of a Content-Length body
	sChunkSize                // a chunk-size line
	sChunkData                // left bytes of a chunk
	sChunkEnd                 // the CR LF after a chunk
	sTrailer                  // trailer lines, up to the empty one
	sUntilClose               // a body without framing: to the end of the connection
	sDone                     // the response is complete
)

// h1Parser parses one HTTP/1.x response handed to it in pieces as they
// come off the socket, so that a connection waiting for more of a response
// needs no goroutine and no buffer of its own. It handles chunked bodies,
// Connection: close, HTTP/1.0, interim 1xx and bodiless statuses the way
// net/http does. It does not allocate in the common case: lines are parsed
// where they lie in the piece, and only a line cut by the end of a piece is
// copied. Only Content-Length, Transfer-Encoding and Connection are looked
// at.
type h1Parser struct {
	// Fields are ordered so that the struct packs tight: every user's
	// sender holds one.
	body    io.Writer // receives the body; nil discards it
	hdr     *[]byte   // receives the final response's header lines; nil: none
	partial []byte    // a line cut by the end of a piece
	left    int64     // bytes left of the body or of the current chunk
	resp    h1Response
	f       framing
	total   int32 // bytes of the head so far, at most maxHeadBytes
	// firstUS is when the response's first byte came, in microseconds
	// after the exchange began (saturated at MaxInt32): see tail.
	firstUS int32
	interim uint8 // 1xx responses read, at most maxInterim+1
	state   pstate
	head    bool // the request was a HEAD
	http10  bool
	first   bool // the next header line is the first of the head
	seen    bool // a byte of the response has arrived
}

// reset readies p for the response to the next request.
func (p *h1Parser) reset(head bool, body io.Writer) {
	partial := p.partial[:0]
	if cap(partial) > maxChunkLine {
		partial = nil // a long head was cut: do not keep its buffer
	}
	*p = h1Parser{head: head, body: body, partial: partial}
}

// feed parses the next piece of the response. It returns how many bytes
// of b belong to the response and whether the response is now complete;
// bytes after n belong to no response. After an error the connection
// cannot be trusted.
func (p *h1Parser) feed(b []byte) (n int, done bool, err error) {
	if len(b) > 0 {
		p.seen = true
	}
	for n < len(b) {
		switch p.state {
		case sBody, sChunkData:
			k := int(min(p.left, int64(len(b)-n)))
			p.write(b[n : n+k])
			p.left -= int64(k)
			n += k
			if p.left > 0 {
				break
			}
			if p.state == sBody {
				p.state = sDone
				return n, true, nil
			}
			p.state = sChunkEnd
		case sUntilClose:
			p.write(b[n:])
			n = len(b)
		case sDone:
			return n, true, nil
		default:
			line, k, err := p.line(b[n:])
			n += k
			if err != nil || line == nil {
				return n, false, err
			}
			if err := p.onLine(line); err != nil {
				return n, false, err
			}
			if p.state == sDone {
				return n, true, nil
			}
		}
	}
	return n, false, nil
}

// end tells the parser that the connection was closed. It returns nil
// when that completed the response (a body that runs to the close),
// io.EOF when no byte of a response had arrived, and
// io.ErrUnexpectedEOF when the response was cut short.
func (p *h1Parser) end() error {
	switch {
	case p.state == sUntilClose, p.state == sDone:
		p.state = sDone
		return nil
	case !p.seen:
		return io.EOF
	}
	return io.ErrUnexpectedEOF
}

func (p *h1Parser) write(b []byte) {
	p.resp.bodyLen += int64(len(b))
	if p.body != nil && len(b) > 0 {
		p.body.Write(b)
	}
}

// line returns the next line of b, LF included, joined to what earlier
// pieces left. When b ends before the line does, line is nil and b is
// kept.
func (p *h1Parser) line(b []byte) (line []byte, n int, err error) {
	limit := maxChunkLine
	if p.state == sStatus || p.state == sHeader || p.state == sTrailer {
		limit = maxHeadLine
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(p.partial)+len(b) > limit {
			return nil, len(b), p.tooLong()
		}
		p.partial = append(p.partial, b...)
		return nil, len(b), nil
	}
	line = b[:i+1]
	if len(p.partial) > 0 {
		if len(p.partial)+len(line) > limit {
			return nil, i + 1, p.tooLong()
		}
		p.partial = append(p.partial, line...)
		line = p.partial
		p.partial = p.partial[:0]
	}
	return line, i + 1, nil
}

func (p *h1Parser) tooLong() error {
	p.partial = nil // the connection is done for: let its buffer go
	if p.state == sChunkSize || p.state == sChunkEnd {
		return fmt.Errorf("%w: chunk header too long", ErrMalformed)
	}
	return fmt.Errorf("%w: response head line longer than %d bytes", ErrMalformed, maxHeadLine)
}

// onLine handles one complete line, LF included.
func (p *h1Parser) onLine(line []byte) error {
	switch p.state {
	case sStatus:
		return p.statusLine(headLine(line))
	case sHeader:
		return p.headerLine(headLine(line))
	case sChunkSize:
		l, err := chunkLine(line)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i] // chunk extensions are ignored
		}
		size, ok := parseHex(bytes.TrimRight(l, " \t"))
		if !ok {
			return fmt.Errorf("%w: bad chunk size %q", ErrMalformed, clip(l))
		}
		if size == 0 {
			p.state = sTrailer
		} else {
			p.state, p.left = sChunkData, size
		}
	case sChunkEnd:
		l, err := chunkLine(line)
		if err != nil {
			return err
		}
		if len(l) != 0 {
			return fmt.Errorf("%w: chunk not followed by CR LF", ErrMalformed)
		}
		p.state = sChunkSize
	case sTrailer:
		l, err := chunkLine(line)
		if err != nil {
			return err
		}
		if len(l) == 0 {
			p.state = sDone
		}
	}
	return nil
}

// headLine strips a head line's LF and the CR before it, if any.
func headLine(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// chunkLine strips a chunk framing line's CR LF, which net/http requires.
func chunkLine(line []byte) ([]byte, error) {
	switch {
	case len(line) < 2 || line[len(line)-2] != '\r':
		return nil, fmt.Errorf("%w: chunk line ends with a bare LF", ErrMalformed)
	case bytes.IndexByte(line[:len(line)-2], '\r') >= 0:
		return nil, fmt.Errorf("%w: CR inside a chunk line", ErrMalformed)
	}
	return line[:len(line)-2], nil
}

// statusLine parses "HTTP/1.1 200 OK".
func (p *h1Parser) statusLine(line []byte) error {
	p.resp, p.f = h1Response{bodyLen: p.resp.bodyLen}, framing{}
	if p.hdr != nil {
		*p.hdr = (*p.hdr)[:0] // an interim 1xx's headers are not the answer's
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(line[7] != '0' && line[7] != '1') || len(line) > 12 && line[12] != ' ' {
		return fmt.Errorf("%w: bad status line %q", ErrMalformed, clip(line))
	}
	p.http10 = line[7] == '0'
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: bad status code in %q", ErrMalformed, clip(line))
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return fmt.Errorf("%w: bad status code in %q", ErrMalformed, clip(line))
	}
	p.resp.code = int32(code)
	p.state, p.first, p.total = sHeader, true, int32(min(len(line), maxHeadBytes+1))
	return nil
}

// headerLine handles a header line, or the empty line that ends the head.
func (p *h1Parser) headerLine(line []byte) error {
	first := p.first
	p.first = false
	if len(line) == 0 {
		return p.endHead()
	}
	total := int(p.total) + len(line)
	p.total = int32(min(total, maxHeadBytes+1))
	if total > maxHeadBytes {
		return fmt.Errorf("%w: response head larger than %d bytes", ErrMalformed, maxHeadBytes)
	}
	if line[0] == ' ' || line[0] == '\t' {
		if first || !isFieldValue(line) {
			return fmt.Errorf("%w: bad continuation line %q", ErrMalformed, clip(line))
		}
		return nil // obsolete line folding: continues a header we ignore
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) || !isFieldValue(line[colon+1:]) {
		return fmt.Errorf("%w: bad header line %q", ErrMalformed, clip(line))
	}
	name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
	if p.hdr != nil {
		*p.hdr = append(append(append(append(*p.hdr, name...), ": "...), value...), "\r\n"...)
	}
	f := &p.f
	switch {
	case equalFold(name, "content-length"):
		n, ok := parseLength(value)
		if !ok || f.hasLength && n != f.length {
			return fmt.Errorf("%w: bad Content-Length %q", ErrMalformed, clip(value))
		}
		f.hasLength, f.length = true, n
	case equalFold(name, "transfer-encoding") && !p.http10: // HTTP/1.0 has no transfer codings
		// chunked is the only coding a client must decode, and it is
		// always the last one applied.
		if !lastToken(value, "chunked") {
			return fmt.Errorf("%w: unsupported Transfer-Encoding %q", ErrMalformed, clip(value))
		}
		f.chunked = true
	case equalFold(name, "retry-after"):
		p.resp.retryAfter = true
	case equalFold(name, "connection"):
		p.resp.close = p.resp.close || hasToken(value, "close")
		f.keepAlive = f.keepAlive || hasToken(value, "keep-alive")
	}
	return nil
}

// endHead decides, from the head just read, how the body is framed.
func (p *h1Parser) endHead() error {
	code := int(p.resp.code)
	if code >= 100 && code < 200 {
		if code == 101 {
			return fmt.Errorf("%w: unexpected 101 Switching Protocols", ErrMalformed)
		}
		if p.interim++; p.interim > maxInterim {
			return fmt.Errorf("%w: more than %d interim (1xx) responses", ErrMalformed, maxInterim)
		}
		p.state = sStatus // 100 Continue, 103 Early Hints: the real answer follows
		p.resp.retryAfter = false
		return nil
	}
	if p.http10 && !p.f.keepAlive {
		p.resp.close = true
	}
	switch {
	case p.head || code == 204 || code == 304:
		p.state = sDone
	case p.f.chunked: // chunked wins over a stray Content-Length
		p.state = sChunkSize
	case p.f.hasLength && p.f.length == 0:
		p.state = sDone
	case p.f.hasLength:
		p.state, p.left = sBody, p.f.length
	default:
		// No framing: the body runs to the end of the connection.
		p.resp.close = true
		p.state = sUntilClose
	}
	return nil
}

// isToken reports whether b is an RFC 9110 token (a header name).
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// isFieldValue reports whether b holds no control characters but tab.
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether a comma-separated header value holds token.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			t, v = v[:i], v[i+1:]
		} else {
			t, v = v, nil
		}
		if equalFold(bytes.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// lastToken reports whether the last comma-separated token of v is token.
func lastToken(v []byte, token string) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return equalFold(bytes.TrimSpace(v), token)
}

func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}

// clip shortens a byte slice for an error message.
func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
