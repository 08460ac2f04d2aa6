//go:build !linux

package client

// loopSet is empty where there are no event loops: net/http carries every
// request.
type loopSet struct{}

// targets is empty where there are no event loops.
type targets struct{}

type target struct{}

func (c *Client) newLoopSender(int) Sender { return nil }

// targetOf returns nil: there is no fast path to resolve for.
func (c *Client) targetOf(*Request) *target { return nil }

func (c *Client) stopLoops() {}

func (c *Client) loopTotals() (in, out int64, open int) { return 0, 0, 0 }
