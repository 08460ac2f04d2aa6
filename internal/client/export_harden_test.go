package client

import "github.com/surgeload/surge/internal/tmpl"

// BindStd is Bind on a sender that goes through net/http whatever the
// URL, so that tests can hold both paths to the same bytes.
func BindStd(c *Client, r *Request, worker int) *Bound {
	b := &Bound{s: c.newStdWorker(), v: tmpl.Values{Run: c.RunID(), User: worker}}
	b.x = Exchange{Req: r, Vals: &b.v}
	return b
}
