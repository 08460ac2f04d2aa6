// Package scenario owns surge's model of a load test: journeys of steps
// (a scenario file, or a single URL given on the command line, which is a
// one-step scenario), their data and their load. LoadFile reads and checks
// a file into a Scenario, every problem at FILE:LINE:COL; Compile makes it
// a Plan of client requests; each virtual user runs the plan through its
// own User (its variables, cookies and place in its flow), which judges
// every response (checks, extraction).
package scenario

import (
	"regexp"
	"sync/atomic"
	"time"
)

// Scenario is a validated scenario: what every virtual user runs, with
// what data, under what load.
type Scenario struct {
	// File is the scenario file's path ("" for a URL on the command line).
	File string
	// Base is the URL relative step URLs resolve against ("" for none).
	Base string
	// Vars are fixed variables, {{name}}.
	Vars []Var
	// Data are the feeders: rows of data as variables {{feeder.column}}.
	Data []*Feeder
	// Load is the load the file asks for; command-line flags override it.
	Load Load
	// Thresholds are threshold/SLO expressions, as written, with where
	// each was written.
	Thresholds []Expr
	// Cookies says whether each user keeps a cookie jar (on by default
	// for files, off for a URL on the command line).
	Cookies bool
	// Flows are the journeys; each user picks one by weight for each
	// iteration. A top-level steps: list is one flow named "default".
	Flows []*Flow
}

// Pos is a place in a scenario file, from 1.
type Pos struct{ Line, Col int }

// Var is a fixed variable.
type Var struct {
	Name  string
	Value string
}

// Expr is a threshold expression as written in the file.
type Expr struct {
	Src string
	Pos Pos
}

// Load is the load part of a scenario. Exactly one of Users and Rate is
// set when the file gives a model; Stages, when set, drive the number of
// users (or the rate) over time instead of a fixed value.
type Load struct {
	Users    int           // closed model: concurrent users
	Rate     float64       // open model: iterations started per second
	Duration time.Duration // 0: not given
	Ramp     time.Duration // linear ramp from 0 to Users/Rate
	Stages   []Stage
	// Think is the pause between two iterations of a user (closed model);
	// when ThinkMax > Think each pause is drawn from [Think, ThinkMax].
	Think    time.Duration
	ThinkMax time.Duration
}

// Stage is one stage of a load profile: a linear change to To over Over,
// or (Hold > 0) holding the current value for Hold.
type Stage struct {
	To   float64
	Over time.Duration
	Hold time.Duration
}

// Flow is one journey: steps run in order.
type Flow struct {
	Name   string
	Weight int // relative share of iterations, ≥ 1
	Steps  []*Step
	Pos    Pos
}

// OnError says what a failed step does to its iteration.
type OnError uint8

// The choices of on_error.
const (
	// Stop ends the iteration (the default).
	Stop OnError = iota
	// Continue goes on with the next step.
	Continue
)

// Step is one request of a journey. Text fields are templates, checked
// at load time: every variable they use is defined.
type Step struct {
	Name    string // unique across the scenario
	Method  string
	URL     string        // absolute, or relative to Base; a template
	Headers []Header      // defaults' headers first, then the step's
	Body    string        // a template; "" for none
	BodyFmt BodyFormat    // how variables in Body are escaped
	Timeout time.Duration // 0: the run's timeout
	Extract []Extract
	Checks  []Check
	// Think is the pause after this step, before the next one.
	Think    time.Duration
	ThinkMax time.Duration
	OnError  OnError
	Pos      Pos
}

// BodyFormat is where a body came from, which says how variables in it
// are escaped.
type BodyFormat uint8

// The body formats.
const (
	BodyRaw  BodyFormat = iota // body: as written
	BodyJSON                   // json: variables inside JSON strings are JSON-escaped
	BodyForm                   // form: variables are URL-encoded
)

// Header is one request header; Value is a template.
type Header struct {
	Name  string
	Value string
}

// ExtractKind is where an extracted value comes from.
type ExtractKind uint8

// The extract kinds.
const (
	FromJSON   ExtractKind = iota // a gjson path into the body
	FromHeader                    // a response header, by name
	FromRegex                     // the first group (or the whole match) of a regexp on the body
)

// Extract takes a value from a response into the variable Var.
type Extract struct {
	Var   string
	Kind  ExtractKind
	Expr  string         // the path, header name or regexp as written
	Regex *regexp.Regexp // FromRegex only
	Pos   Pos
}

// CheckKind is what a check looks at.
type CheckKind uint8

// The check kinds.
const (
	CheckStatus CheckKind = iota // status OP CODE
	CheckBody                    // body~TEXT, body!~TEXT
	CheckJSON                    // json:PATH [OP VALUE]: exists, or compares
	CheckHeader                  // header:NAME [OP VALUE] or header:NAME~TEXT
)

// Check is a response check; a response that fails one fails its step
// with the class check.
//
//	status==200  status!=500  status<400  (also <=, >, >=)
//	body~TEXT    body!~TEXT   (TEXT is a template)
//	json:PATH               the path exists (and is not null/false)
//	json:PATH==VALUE        also != < <= > >=; numbers compare as numbers
//	header:NAME             the header is present
//	header:NAME==VALUE      also !=, ~ (contains), !~
type Check struct {
	Src   string
	Kind  CheckKind
	Path  string // CheckJSON: gjson path; CheckHeader: header name
	Op    string // "", "==", "!=", "<", "<=", ">", ">=", "~", "!~"
	Value string // the operand as written (a template for body and header checks)
	Code  int    // CheckStatus
	Pos   Pos
}

// FeederOrder is how a feeder hands out its rows.
type FeederOrder uint8

// The feeder orders.
const (
	Sequential FeederOrder = iota // rows in file order, shared by all users
	Random                        // a row drawn at random for each iteration
	Unique                        // each row used once in the whole run
)

// OnEnd is what happens when a sequential or unique feeder has handed out
// its last row.
type OnEnd uint8

// The choices of on_end.
const (
	Wrap   OnEnd = iota // start again from the first row (sequential's default)
	EndRun              // end the run, with a message that says why (unique's only choice)
)

// Feeder is a table of rows read from a CSV file (with a header row) or a
// JSON-lines file (one object per line, string/number/bool values). File
// is the path as resolved against the scenario file's directory. A
// Feeder holds Take's cursor: share it by pointer, never copy it.
type Feeder struct {
	Name    string
	File    string
	Order   FeederOrder
	OnEnd   OnEnd
	Columns []string
	Rows    [][]string // each row has len(Columns) values
	Pos     Pos

	next atomic.Uint64 // Take's cursor (sequential, unique)
}
