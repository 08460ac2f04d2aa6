// Command target is the loopback HTTP server bench/compare.sh points every
// load tool at: it answers each request at once with a 2-byte body, so that
// the load generator, not the target, is what the benchmark measures.
// With -delay D it holds each response for D first (precisely), for the
// open-model latency check.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	delay := flag.Duration("delay", 0, "hold each response this long before answering")
	flag.Parse()
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !(host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")) {
		fmt.Fprintln(os.Stderr, "target: --listen must be a loopback address such as 127.0.0.1:8080")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "target:", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().String())
	body := []byte("ok")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *delay > 0 {
			hold(*delay)
		}
		w.Header().Set("Content-Length", "2")
		w.Write(body)
	})}
	fmt.Fprintln(os.Stderr, "target:", srv.Serve(l))
}
