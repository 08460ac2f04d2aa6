package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/surgeload/surge/internal/scenario"
)

// SameRequests checks that the scenario loaded from a Doc's YAML sends
// what the Doc holds: the same steps, methods, URLs, headers, bodies
// (JSON compared as values) and pauses. It returns the first difference.
func SameRequests(d *Doc, sc *scenario.Scenario) error {
	var steps []*scenario.Step
	for _, f := range sc.Flows {
		steps = append(steps, f.Steps...)
	}
	if len(steps) != len(d.Steps) {
		return fmt.Errorf("%d steps loaded, %d imported", len(steps), len(d.Steps))
	}
	if sc.Base != d.Base {
		return fmt.Errorf("base %q loaded, %q imported", sc.Base, d.Base)
	}
	for i, want := range d.Steps {
		got := steps[i]
		if got.Name != want.Name || got.Method != want.Method || got.URL != want.URL || got.Think != want.Think {
			return fmt.Errorf("step %d: loaded %s %s %s think %v, imported %s %s %s think %v", i, got.Name, got.Method, got.URL, got.Think, want.Name, want.Method, want.URL, want.Think)
		}
		for _, h := range want.Headers {
			found := false
			for _, gh := range got.Headers {
				if gh.Name == h.Key && gh.Value == h.Value {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("step %s: header %s: %q is not loaded (%v)", want.Name, h.Key, h.Value, got.Headers)
			}
		}
		switch {
		case want.HasJSON:
			var b strings.Builder
			compactJSON(&b, want.JSON)
			var a, c any
			if err := json.Unmarshal([]byte(b.String()), &a); err != nil {
				return fmt.Errorf("step %s: the imported JSON %s: %v", want.Name, b.String(), err)
			}
			if err := json.Unmarshal([]byte(got.Body), &c); err != nil {
				return fmt.Errorf("step %s: the loaded JSON %s: %v", want.Name, got.Body, err)
			}
			if !reflect.DeepEqual(a, c) {
				return fmt.Errorf("step %s: loaded JSON %s, imported %s", want.Name, got.Body, b.String())
			}
		case want.Form != nil:
			var parts []string
			for _, p := range strings.Split(got.Body, "&") {
				k, v, _ := strings.Cut(p, "=")
				dk, err1 := url.QueryUnescape(k)
				dv, err2 := url.QueryUnescape(v)
				if err1 != nil || err2 != nil {
					return fmt.Errorf("step %s: loaded form %q", want.Name, got.Body)
				}
				parts = append(parts, dk+"="+dv)
			}
			var wparts []string
			for _, kv := range want.Form {
				wparts = append(wparts, kv.Key+"="+kv.Value.(string))
			}
			if !reflect.DeepEqual(parts, wparts) {
				return fmt.Errorf("step %s: loaded form %q, imported %q", want.Name, parts, wparts)
			}
		case want.Body != nil:
			if got.Body != *want.Body {
				return fmt.Errorf("step %s: loaded body %q, imported %q", want.Name, got.Body, *want.Body)
			}
		default:
			if got.Body != "" {
				return fmt.Errorf("step %s: loaded body %q, imported none", want.Name, got.Body)
			}
		}
	}
	var vars bytes.Buffer
	for _, v := range sc.Vars {
		fmt.Fprintf(&vars, "%s=%s;", v.Name, v.Value)
	}
	var wvars bytes.Buffer
	for _, v := range d.Vars {
		s := fmt.Sprint(v.Value)
		fmt.Fprintf(&wvars, "%s=%s;", v.Key, s)
	}
	if vars.String() != wvars.String() {
		return fmt.Errorf("vars loaded %s, imported %s", vars.String(), wvars.String())
	}
	return nil
}
