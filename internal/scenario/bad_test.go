package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// badFiles is the bad-input corpus: every file under testdata/bad and
// the exact problems it must produce, in order. Problems in the scenario
// file are written LINE:COL: message; problems in a feeder file start
// with the feeder file's name.
var badFiles = map[string][]string{
	"bad-base": {
		"1:7: base: \"127.0.0.1:8080\" is not an absolute http:// or https:// URL (e.g. http://127.0.0.1:8080)",
	},
	"bad-check": {
		"4:32: check \"statuss==200\": status check: want status==CODE (or !=, <, <=, >, >=), e.g. status==200",
	},
	"bad-duration": {
		"1:28: load.duration: \"2 minutes\" is not a duration (want e.g. 500ms, 2s, 1m30s)",
	},
	"bad-method": {
		"3:13: method: \"GE T\" is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or another token in capitals)",
	},
	"bad-on-error": {
		"4:15: on_error: \"ignore\" is not a choice (want stop or continue)",
	},
	"bad-order": {
		"3:41: data.accounts.order: \"shuffled\" is not an order (want sequential, random or unique)",
	},
	"bad-regex": {
		"5:25: extract.order_id.regex: bad regexp: missing closing ): `id=(\\d+`",
	},
	"bad-status-code": {
		"4:21: check \"status==2000\": status check: 2000 is not a status code (100-599)",
	},
	"bad-think-range": {
		"1:25: load.think: range \"3s-1s\" ends before it starts",
	},
	"bad-url-scheme": {
		"2:10: url: scheme \"ftp\" is not supported (want http or https)",
	},
	"body-and-json": {
		"6:5: json: body, json and form are exclusive: keep one",
	},
	"duplicate-default-name": {
		"4:5: two steps are both named \"GET /items\" (first at line 3): give them distinct names with name:",
	},
	"duplicate-key": {
		"4:5: key \"url\" appears twice (first at line 3)",
	},
	"duplicate-step-name": {
		"5:11: step name \"login\" is used twice (first at line 3): step names must be unique",
	},
	"duration-no-unit": {
		"3:14: timeout: \"5\" has no unit (write e.g. 5ms or 5s)",
	},
	"empty-file": {
		"1:1: the file is empty: a scenario needs at least steps: (or flows:)",
	},
	"empty-step-name": {
		"3:11: name: empty step name",
	},
	"extract-builtin": {
		"5:7: extract: \"user\" is a built-in variable and cannot be extracted into",
	},
	"extract-two-kinds": {
		"5:14: extract.token: want exactly one of {json: PATH}, {header: NAME} or {regex: RE}",
	},
	"feeder-nested-json": {
		"nested.jsonl:2:21: feeder people: the value of \"n\" is an object or a list (want a string, number or boolean)",
	},
	"feeder-no-rows": {
		"header-only.csv:1:1: feeder people has no rows after its header",
	},
	"feeder-short-row": {
		"short-row.csv:3:1: feeder accounts: this row has 1 fields, the header has 2",
	},
	"form-not-map": {
		"5:11: form: want a mapping (key: value), got a list",
	},
	"json-check-not-number": {
		"4:25: check \"json:count>many\": json check: > compares numbers, and \"many\" is not a number",
	},
	"lowercase-method": {
		"3:13: method: write \"post\" in capitals (POST)",
	},
	"many-problems": {
		"2:15: load.users: 0 is less than 1",
		"2:28: load.duration: \"10\" has no unit (write e.g. 10ms or 10s)",
		"5:19: check \"status=200\": status check: want status==CODE (or !=, <, <=, >, >=), e.g. status==200",
		"7:12: think: \"soon\" is not a duration (want e.g. 500ms, 2s, 1m30s)",
	},
	"missing-feeder-column": {
		"7:50: unknown variable {{accounts.pass}}: feeder accounts has no column \"pass\" (columns: user, password)",
	},
	"missing-feeder-file": {
		"3:20: data.accounts.file: cannot read testdata/bad/nowhere.csv: no such file",
	},
	"missing-url": {
		"3:5: step: missing url:",
	},
	"no-steps": {
		"1:1: no steps: add a steps: list (one journey) or flows: (several)",
	},
	"ramp-and-stages": {
		"3:3: load: ramp and stages cannot both be given: make the ramp the first stage ({to: N, over: D})",
	},
	"random-on-end": {
		"3:49: data.accounts.on_end: a random feeder never runs out: remove on_end",
	},
	"relative-url-no-base": {
		"2:10: url: \"/a\" is relative and there is no base: add base: http://HOST:PORT at the top, or write the full URL",
	},
	"stage-empty": {
		"5:7: load.stages[1]: a stage needs to: (with over:) or hold:",
	},
	"stage-to-and-hold": {
		"3:21: load.stages[0]: a stage is either {to: N, over: D} or {hold: D}, not both",
	},
	"steps-and-flows": {
		"6:1: steps: and flows: cannot both be given: put these steps in a flow, or drop flows:",
	},
	"threshold-bad-expr": {
		"3:24: threshold \"step.order.p95<300\": missing unit: a latency needs one (e.g. 300ms or 300s)",
		"4:8: threshold \"p95=<1s\": expected <, <=, > or >=, found \"=\"",
	},
	"threshold-unknown-step": {
		"2:33: threshold \"step.ordr.p95<300ms\": no step named \"ordr\" (steps: order)",
	},
	"unclosed-template": {
		"6:13: \"{{id\\n\" opens {{ without closing }}",
	},
	"unique-wrap": {
		"3:57: data.accounts.on_end: a unique feeder hands out each row once, so it cannot wrap: use order: sequential, or on_end: stop",
	},
	"unknown-feeder": {
		"5:13: unknown variable {{acounts.user}}: no feeder named acounts (feeders: accounts)",
	},
	"unknown-step-key": {
		"4:5: unknown key \"methd\" in step (did you mean method?)",
	},
	"unknown-top-key": {
		"2:1: unknown key \"stepz\" in the scenario (did you mean steps?)",
	},
	"unknown-variable-typo": {
		"5:26: unknown variable {{tenantt}} (did you mean {{tenant}}?)",
	},
	"unknown-variable": {
		"4:35: unknown variable {{page}}",
	},
	"users-and-rate": {
		"3:3: load: users and rate cannot both be given (users: a closed model of concurrent users; rate: an open model of journeys started per second)",
	},
	"variable-from-later-step": {
		"5:38: variable {{token}} is extracted only by a later step (login, line 6): a step can use only what earlier steps of its flow extract",
	},
	"variable-from-other-flow": {
		"10:42: unknown variable {{token}}: it is extracted in flow a, and variables do not cross flows",
	},
	"vars-list": {
		"3:8: vars.ids: want a string, number or boolean, got a list",
	},
	"weight-zero": {
		"4:13: flows[0].weight: 0 is less than 1 (weights are relative shares, 1 or more)",
	},
	"wrong-type-users": {
		"2:10: load.users: want a whole number, got \"many\"",
	},
	"yaml-syntax": {
		"3:10: YAML: sequence end token ']' not found",
	},
	"think-with-rate": {
		"3:3: load.think: a pause between journeys needs users (the closed model); with rate, journeys start on schedule: use think: on steps instead",
	},
	"defaults-extracted": {
		"3:36: unknown variable {{token}}: defaults can use vars, feeders and the built-ins, not what steps extract",
	},
	"feeder-bad-name": {
		"3:3: data: \"my-accounts\" is not a valid name (letters, digits and _, not starting with a digit)",
		"4:3: data: \"n\" is a built-in variable and cannot be redefined",
	},
	"defaults-timeout": {
		"3:12: defaults.timeout: must be more than 0",
	},
	"variable-from-later-unnamed": {
		"3:13: variable {{id2}} is extracted only by a later step (step 3, line 5): a step can use only what earlier steps of its flow extract",
	},
}

func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("the corpus has %d files, want at least 30", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			want, ok := badFiles[name]
			if !ok {
				t.Fatalf("%s has no expected messages in badFiles", f)
			}
			sc, err := LoadFile(f)
			if err == nil {
				t.Fatalf("LoadFile(%s) = %+v, want errors", f, sc)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("LoadFile(%s): %T %v, want Errors", f, err, err)
			}
			var got []string
			for _, e := range es {
				s := e.Error()
				if e.File == f {
					s = strings.TrimPrefix(s, f+":")
				} else {
					s = strings.TrimPrefix(s, "testdata/bad/")
				}
				got = append(got, s)
			}
			if !slices.Equal(got, want) {
				t.Errorf("LoadFile(%s):\ngot  %q\nwant %q", f, got, want)
			}
			if err.Error() != strings.Join(prefixed(es), "\n") {
				t.Errorf("Errors.Error() = %q", err.Error())
			}
		})
	}
	for name := range badFiles {
		if _, err := os.Stat("testdata/bad/" + name + ".yaml"); err != nil {
			t.Errorf("badFiles names %s, which is not in testdata/bad", name)
		}
	}
}

func prefixed(es Errors) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg))
	}
	return out
}
