package client_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"

	"github.com/surgeload/surge/internal/client"
)

func TestShortBodyThenCleanCloseIsProtocol(t *testing.T) {
	for _, answer := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
	} {
		u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
			if _, err := readRequest(br); err == nil {
				io.WriteString(c, answer) // then a clean close (FIN)
			}
		})
		c := newClient(t, client.Config{})
		r := mustRequest(t, "GET", u+"/", nil, "")
		for name, s := range senders(c, r) {
			res := s.Do(context.Background())
			if res.Class != client.ProtocolError || res.Class.Completed() {
				t.Errorf("%s, %q: %+v, want class protocol", name, answer, res)
			}
		}
	}
}
