// Command tlsfloor is the least a Go load generator can be over TLS, for
// bench/compare.sh's https mode: C goroutines, each on its own crypto/tls
// connection, send one fixed request and read each answer, for a duration,
// then print requests per second. No flags library, histograms or probes:
// its peak RSS is the floor of the Go runtime and crypto/tls, against
// which surge's memory (and wrk's) can be read.
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	conns := flag.Int("c", 50, "connections")
	dur := flag.Duration("d", 5*time.Second, "duration")
	ua := flag.String("ua", "surge-bench", "User-Agent")
	flag.Parse()
	addr := flag.Arg(0)
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !(host == "::1" || strings.HasPrefix(host, "127.")) {
		fmt.Fprintln(os.Stderr, "tlsfloor: give a loopback HOST:PORT such as 127.0.0.1:8443")
		os.Exit(2)
	}
	req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: " + *ua + "\r\n\r\n")
	var done atomic.Int64
	var failed atomic.Bool
	stop := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // a self-signed bench certificate
			if err != nil {
				failed.Store(true)
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for time.Now().Before(stop) {
				if _, err := c.Write(req); err != nil {
					failed.Store(true)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					failed.Store(true)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		fmt.Fprintln(os.Stderr, "tlsfloor: a connection failed")
	}
	fmt.Printf("%.1f\n", float64(done.Load())/dur.Seconds())
}
