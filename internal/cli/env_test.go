package cli

import (
	"runtime"
	"testing"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/selfcheck"
)

// Two scheduler Ps per CPU for plain HTTP, one as soon as a request goes
// over TLS (a scenario may mix them), and none of it when the user set
// GOMAXPROCS.
func TestTuneForLoadPsByScheme(t *testing.T) {
	req := func(u string) *client.Request {
		r, err := client.NewRequest("GET", u, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	plain, tls := req("http://127.0.0.1:8080/a"), req("https://127.0.0.1:8443/b")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	cases := []struct {
		reqs []*client.Request
		per  int
	}{{nil, 2}, {[]*client.Request{plain}, 2}, {[]*client.Request{plain, tls}, 1}, {[]*client.Request{tls}, 1}}
	env := Env{Getenv: func(string) string { return "" }}
	for _, c := range cases {
		tuneForLoad(env, c.reqs)
		if got, want := runtime.GOMAXPROCS(0), c.per*selfcheck.Cores(); got != want {
			t.Errorf("%d requests: GOMAXPROCS %d, want %d (%d per CPU)", len(c.reqs), got, want, c.per)
		}
	}
	runtime.GOMAXPROCS(3)
	tuneForLoad(Env{Getenv: func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}}, []*client.Request{tls})
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("GOMAXPROCS=3 in the environment: surge set %d", got)
	}
}
