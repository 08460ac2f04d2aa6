package client

import (
	"bufio"
	"errors"
	"io"
)

// ReadResponse exposes the HTTP/1.x response parser to the black-box
// tests: it feeds the parser what br holds, piece by piece, and consumes
// exactly the bytes of one response.
func ReadResponse(br *bufio.Reader, head bool, body io.Writer) (code int, close bool, bodyLen int64, err error) {
	var p h1Parser
	p.reset(head, body)
	for {
		if _, err := br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				err = p.end()
			}
			return p.resp.code, p.resp.close, p.resp.bodyLen, err
		}
		piece, _ := br.Peek(br.Buffered())
		n, done, err := p.feed(piece)
		br.Discard(n)
		if err != nil || done {
			return p.resp.code, p.resp.close, p.resp.bodyLen, err
		}
	}
}
