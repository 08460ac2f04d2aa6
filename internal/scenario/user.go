package scenario

import (
	"bytes"
	"math/rand/v2"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/tmpl"
)

// User is one virtual user's journey state: its variables, its cookies,
// where it is in its flow. It implements the engine's Journey; it is not
// safe for concurrent use.
type User struct {
	// Every user holds one for the whole run: what few runs need lives
	// behind a pointer made on first use (more).
	p      *Plan
	vals   tmpl.Values
	x      client.Exchange
	flow   *planFlow
	more   *userMore // made with the user when the plan keeps cookies, else on first need
	at     int32     // next step of the flow; the step under way is the one before
	failed bool
}

// userMore is what a user makes only when a run needs it.
type userMore struct {
	jar     *jar       // nil when the plan keeps no cookies
	rng     *rand.Rand // for random choices: see random
	scratch []byte     // a check's rendered text
}

// extra returns u's userMore, making it on first use.
func (u *User) extra() *userMore {
	if u.more == nil {
		u.more = &userMore{}
	}
	return u.more
}

// NewUser returns the state of user number user; runID is the first part
// of its {{id}} values.
func (p *Plan) NewUser(user int, runID string) *User {
	u := &User{p: p}
	u.vals = tmpl.Values{Run: runID, User: user, Slots: make([][]byte, p.slots)}
	for _, f := range p.fixed {
		u.vals.Slots[f.slot] = f.value
	}
	u.x.Vals = &u.vals
	if p.jar {
		u.extra().jar = &jar{now: p.now}
	}
	return u
}

// Begin implements the engine's Journey: it picks a flow by weight and
// takes a row from each feeder the flow uses.
func (u *User) Begin() error {
	p := u.p
	u.flow = &p.flows[0]
	if len(p.flows) > 1 {
		n := u.random().IntN(p.total)
		for i := range p.flows {
			if n -= p.flows[i].weight; n < 0 {
				u.flow = &p.flows[i]
				break
			}
		}
	}
	for _, fi := range u.flow.feeds {
		var rng *rand.Rand
		if p.feeds[fi].f.Order == Random {
			rng = u.random()
		}
		if err := p.feeds[fi].take(rng, u.vals.Slots); err != nil {
			return err
		}
	}
	for _, k := range u.flow.clear {
		u.vals.Slots[k] = u.vals.Slots[k][:0]
	}
	u.at, u.failed = 0, false
	return nil
}

// Next implements the engine's Journey.
func (u *User) Next() (*client.Exchange, int) {
	if int(u.at) >= len(u.flow.steps) {
		return nil, 0
	}
	i := u.flow.steps[u.at]
	u.at++
	st := u.p.Steps[i]
	u.vals.N++
	u.x.Req = st.Request
	if u.p.jar {
		j := u.more.jar
		j.path = st.Request.AppendURI(j.path[:0], &u.vals)
		if q := bytes.IndexByte(j.path, '?'); q >= 0 {
			j.path = j.path[:q]
		}
		u.x.Cookie = j.header(u.x.Cookie[:0], st.site, j.path)
	}
	return &u.x, i
}

// step returns the step under way: the one Next returned last.
func (u *User) step() *PlanStep { return u.p.Steps[u.flow.steps[u.at-1]] }

// Done implements the engine's Journey: it applies the step's checks,
// extracts its variables and keeps its cookies.
func (u *User) Done(res client.Result) (client.Result, time.Duration) {
	st := u.step()
	if u.p.jar && res.Header != nil {
		j := u.more.jar
		j.update(res.Header, st.site, j.path)
	}
	if res.Code > 0 && (res.Class == client.OK || (res.Class == client.HTTP4xx || res.Class == client.HTTP5xx) && st.checksStatus()) {
		res.Class = client.OK
		if !u.check(st, res) || !u.extract(st, res) {
			res.Class = client.CheckFailed
		}
	}
	if res.Class.IsError() && res.Class != client.Canceled {
		u.failed = true
		if st.Step.OnError == Stop {
			u.at = int32(len(u.flow.steps))
		}
	}
	return res, u.think(st.Step.Think, st.Step.ThinkMax)
}

// random returns the user's random source, made on first use: most users
// of most runs never choose at random, and ten thousand of them would
// hold one each.
func (u *User) random() *rand.Rand {
	m := u.extra()
	if m.rng == nil {
		m.rng = rand.New(rand.NewPCG(uint64(u.vals.User)+1, uint64(time.Now().UnixNano())))
	}
	return m.rng
}

// Failed implements the engine's Journey.
func (u *User) Failed() bool { return u.failed }

// think returns a pause between lo and hi.
func (u *User) think(lo, hi time.Duration) time.Duration {
	if hi > lo {
		return lo + time.Duration(u.random().Int64N(int64(hi-lo)+1))
	}
	return lo
}
