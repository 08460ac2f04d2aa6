package lab

import (
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
)

// loginEpoch is the first last_login in the table (2025-01-01T00:00:00Z);
// rows log in on one of the 365 days that follow, at midnight, so that
// each value is shared by about rows/365 rows.
const loginEpoch = 1735689600

// row is one row of the in-memory table, like a users table.
type row struct {
	id        int64
	name      string
	email     string
	lastLogin int64 // Unix seconds
}

// table is the in-memory table behind /scan (no index) and /lookup (an
// index on last_login, built at startup). It is never changed after
// newTable, so it needs no lock.
type table struct {
	rows  []row
	index []int64 // every row's lastLogin, sorted
}

// newTable builds n rows from a fixed seed, so that every lab has the same
// table.
func newTable(n int) *table {
	rng := rand.New(rand.NewPCG(1, 1))
	t := &table{rows: make([]row, n), index: make([]int64, n)}
	for i := range t.rows {
		id := int64(i + 1)
		name := "user" + strconv.FormatInt(id, 10)
		t.rows[i] = row{
			id:        id,
			name:      name,
			email:     name + "@example.com",
			lastLogin: loginEpoch + int64(rng.IntN(365))*86400,
		}
		t.index[i] = t.rows[i].lastLogin
	}
	slices.Sort(t.index)
	return t
}

// defaultQ is the q of /scan and /lookup when none is given: row 1's
// last_login, so that the default answer is never 0.
func (t *table) defaultQ() int64 { return t.rows[0].lastLogin }

// scan counts the rows whose last_login is q by reading every row.
func (t *table) scan(q int64) int {
	n := 0
	for i := range t.rows {
		if t.rows[i].lastLogin == q {
			n++
		}
	}
	return n
}

// lookup counts the rows whose last_login is q with two binary searches
// in the index.
func (t *table) lookup(q int64) int {
	lo := sort.Search(len(t.index), func(i int) bool { return t.index[i] >= q })
	hi := len(t.index)
	if q < math.MaxInt64 {
		hi = sort.Search(len(t.index), func(i int) bool { return t.index[i] > q })
	}
	return hi - lo
}

// countAnswer is the body of /scan and /lookup.
type countAnswer struct {
	Q     int64 `json:"q"`
	Count int   `json:"count"`
	Rows  int   `json:"rows"`
}

// handleScan answers how many rows have last_login q, by a full scan.
func (s *Server) handleScan(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "q")
	q := k.any64("q", s.table.defaultQ())
	if !k.ok(w) {
		return
	}
	writeJSON(w, http.StatusOK, countAnswer{Q: q, Count: s.table.scan(q), Rows: len(s.table.rows)})
}

// handleLookup answers the same as /scan, through the index.
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "q")
	q := k.any64("q", s.table.defaultQ())
	if !k.ok(w) {
		return
	}
	writeJSON(w, http.StatusOK, countAnswer{Q: q, Count: s.table.lookup(q), Rows: len(s.table.rows)})
}
