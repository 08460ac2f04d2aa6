package client

// NewStdSender returns a sender that goes through net/http whatever the
// URL, so that tests can hold both paths to the same bytes.
func NewStdSender(c *Client, r *Request, worker int) Sender { return c.newStdWorker(r, worker) }
