//go:build !linux

package client

// loopSet is empty where there are no event loops: net/http carries every
// request.
type loopSet struct{}

// targets is empty where there are no event loops.
type targets struct{}

func (c *Client) newLoopSender(*Request, int) Sender { return nil }

func (c *Client) stopLoops() {}

func (c *Client) loopTotals() (in, out int64, open int) { return 0, 0, 0 }
