package client

import (
	"bufio"
	"io"
)

// ReadResponse exposes the HTTP/1.x response parser to the black-box tests.
func ReadResponse(br *bufio.Reader, head bool, body io.Writer) (code int, close bool, bodyLen int64, err error) {
	r, err := readResponse(br, head, body)
	return r.code, r.close, r.bodyLen, err
}
