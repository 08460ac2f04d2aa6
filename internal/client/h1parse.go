package client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrMalformed marks a response that is not valid HTTP/1.x.
var ErrMalformed = errors.New("malformed HTTP response")

// maxHeadBytes bounds the size of a response head.
const maxHeadBytes = 1 << 20

// h1Response is what readResponse learns about one response.
type h1Response struct {
	code    int
	close   bool  // the connection cannot carry another request
	bodyLen int64 // body bytes read
}

// framing is what a response head says about its body.
type framing struct {
	chunked   bool
	hasLength bool
	length    int64
	keepAlive bool // Connection: keep-alive (for HTTP/1.0)
}

// readResponse reads one HTTP/1.x response from br, body included (copied
// to body when it is not nil, else discarded). It does not allocate in the
// common case: the status line and headers are parsed as slices of br's
// buffer, and only Content-Length, Transfer-Encoding and Connection are
// looked at. head reports whether the request was a HEAD.
func readResponse(br *bufio.Reader, head bool, body io.Writer) (h1Response, error) {
	for {
		r, f, err := readHead(br)
		if err != nil {
			return r, err
		}
		if r.code >= 100 && r.code < 200 {
			if r.code == 101 {
				return r, fmt.Errorf("%w: unexpected 101 Switching Protocols", ErrMalformed)
			}
			continue // 100 Continue, 103 Early Hints: the real answer follows
		}
		r.bodyLen, err = readBody(br, &r, f, head, body)
		return r, err
	}
}

func readHead(br *bufio.Reader) (r h1Response, f framing, err error) {
	line, err := readLine(br)
	if err != nil {
		return r, f, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(line[7] != '0' && line[7] != '1') || len(line) > 12 && line[12] != ' ' {
		return r, f, fmt.Errorf("%w: bad status line %q", ErrMalformed, clip(line))
	}
	http10 := line[7] == '0'
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return r, f, fmt.Errorf("%w: bad status code in %q", ErrMalformed, clip(line))
		}
		r.code = r.code*10 + int(c-'0')
	}
	if r.code < 100 {
		return r, f, fmt.Errorf("%w: bad status code in %q", ErrMalformed, clip(line))
	}
	total := len(line)
	for first := true; ; first = false {
		line, err := readLine(br)
		if err != nil {
			return r, f, unexpected(err)
		}
		if len(line) == 0 {
			break
		}
		if total += len(line); total > maxHeadBytes {
			return r, f, fmt.Errorf("%w: response head larger than %d bytes", ErrMalformed, maxHeadBytes)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if first || !isFieldValue(line) {
				return r, f, fmt.Errorf("%w: bad continuation line %q", ErrMalformed, clip(line))
			}
			continue // obsolete line folding: continues a header we ignore
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) || !isFieldValue(line[colon+1:]) {
			return r, f, fmt.Errorf("%w: bad header line %q", ErrMalformed, clip(line))
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			n, ok := parseLength(value)
			if !ok || f.hasLength && n != f.length {
				return r, f, fmt.Errorf("%w: bad Content-Length %q", ErrMalformed, clip(value))
			}
			f.hasLength, f.length = true, n
		case equalFold(name, "transfer-encoding") && !http10: // HTTP/1.0 has no transfer codings
			// chunked is the only coding a client must decode, and it is
			// always the last one applied.
			if !lastToken(value, "chunked") {
				return r, f, fmt.Errorf("%w: unsupported Transfer-Encoding %q", ErrMalformed, clip(value))
			}
			f.chunked = true
		case equalFold(name, "connection"):
			r.close = r.close || hasToken(value, "close")
			f.keepAlive = f.keepAlive || hasToken(value, "keep-alive")
		}
	}
	if http10 && !f.keepAlive {
		r.close = true
	}
	if f.chunked {
		f.hasLength = false // chunked wins over a stray Content-Length
	}
	return r, f, nil
}

// readBody reads the body framed by f and returns its length.
func readBody(br *bufio.Reader, r *h1Response, f framing, head bool, body io.Writer) (int64, error) {
	switch {
	case head || r.code == 204 || r.code == 304:
		return 0, nil
	case f.chunked:
		return readChunked(br, body)
	case f.hasLength:
		return copyN(br, body, f.length)
	}
	// No framing: the body runs to the end of the connection.
	r.close = true
	if body == nil {
		body = io.Discard
	}
	return io.Copy(body, br)
}

// readChunked reads a chunked body and its trailers. Chunk framing lines
// must end in CR LF, as net/http requires.
func readChunked(br *bufio.Reader, body io.Writer) (int64, error) {
	var total int64
	for {
		line, err := readChunkLine(br)
		if err != nil {
			return total, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions are ignored
		}
		size, ok := parseHex(bytes.TrimRight(line, " \t"))
		if !ok {
			return total, fmt.Errorf("%w: bad chunk size %q", ErrMalformed, clip(line))
		}
		if size == 0 {
			break
		}
		n, err := copyN(br, body, size)
		total += n
		if err != nil {
			return total, err
		}
		if crlf, err := readChunkLine(br); err != nil || len(crlf) != 0 {
			if err != nil {
				return total, err
			}
			return total, fmt.Errorf("%w: chunk not followed by CR LF", ErrMalformed)
		}
	}
	for { // trailers, up to the empty line
		line, err := readChunkLine(br)
		if err != nil {
			return total, err
		}
		if len(line) == 0 {
			return total, nil
		}
	}
}

// readChunkLine reads a chunk framing line, which must end in CR LF.
func readChunkLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: chunk header too long", ErrMalformed)
	case err != nil:
		return nil, unexpected(err)
	case len(line) < 2 || line[len(line)-2] != '\r':
		return nil, fmt.Errorf("%w: chunk line ends with a bare LF", ErrMalformed)
	case bytes.IndexByte(line[:len(line)-2], '\r') >= 0:
		return nil, fmt.Errorf("%w: CR inside a chunk line", ErrMalformed)
	}
	return line[:len(line)-2], nil
}

// copyN moves exactly n body bytes from br to body (or discards them).
func copyN(br *bufio.Reader, body io.Writer, n int64) (int64, error) {
	var got int64
	var err error
	if body == nil {
		var d int
		for got < n && err == nil {
			step := min(n-got, 1<<30)
			d, err = br.Discard(int(step))
			got += int64(d)
		}
	} else {
		got, err = io.CopyN(body, br, n)
	}
	if err != nil {
		return got, unexpected(err)
	}
	return got, nil
}

// readLine returns the next line without its CR LF, as a slice of br's
// buffer valid until the next read. A line longer than the buffer is
// consumed whole and returned truncated: only the headers surge reads
// matter, and none of them is that long.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			return nil, err
		}
		return []byte("X-Surge-Long: skipped"), nil
	}
	if err != nil {
		if len(line) > 0 && errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// unexpected turns an end of stream inside a response into
// io.ErrUnexpectedEOF: the response was cut short.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
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
