//go:build linux

package client

// SetMaxConnecting caps the connects each of c's event loops runs at once.
// Call it before the first request.
func SetMaxConnecting(c *Client, n int) {
	for _, l := range c.loops() {
		l.maxConnecting = n
	}
}

// Loops returns how many event loops c runs: sender i and sender
// i+Loops(c) share one.
func Loops(c *Client) int { return len(c.loops()) }
