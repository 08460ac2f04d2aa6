package scenario

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Take hands out the next row for an iteration. It is safe for
// concurrent use by all users of a run:
//
//   - Sequential: rows in file order, through one cursor shared by every
//     user; after the last row, Wrap starts again and EndRun returns
//     ok == false (the run should end, saying the feeder ran out).
//   - Random: a row drawn with rng (which may be per user, and need not be
//     safe for concurrent use; nil uses the global source); never runs out.
//   - Unique: each row exactly once in the whole run; ok == false after the
//     last.
//
// row must not be modified.
func (f *Feeder) Take(rng *rand.Rand) (row []string, ok bool) {
	n := uint64(len(f.Rows))
	if n == 0 {
		return nil, false
	}
	if f.Order == Random {
		var i uint64
		if rng != nil {
			i = rng.Uint64N(n)
		} else {
			i = rand.Uint64N(n)
		}
		return f.Rows[i], true
	}
	i := f.next.Add(1) - 1
	if i >= n {
		if f.Order == Unique || f.OnEnd == EndRun {
			return nil, false
		}
		i %= n
	}
	return f.Rows[i], true
}

// Column returns the index of a column, or -1.
func (f *Feeder) Column(name string) int { return slices.Index(f.Columns, name) }

// maxFeederBytes bounds a feeder file: its rows are held in memory.
const maxFeederBytes = 256 << 20

// readFeeder reads a feeder's rows from data, a CSV file with a header
// row or, by extension (.jsonl, .ndjson, .json-lines), a JSON-lines
// file. Problems are reported at their line in the feeder file.
func readFeeder(f *Feeder, data []byte, lines []string, report func(line, col int, format string, args ...any)) {
	switch strings.ToLower(filepath.Ext(f.File)) {
	case ".jsonl", ".ndjson", ".json-lines":
		readJSONLines(f, data, lines, report)
	default:
		readCSV(f, data, report)
	}
	if len(f.Columns) > 0 && len(f.Rows) == 0 {
		report(1, 1, "feeder %s has no rows after its header", f.Name)
	}
}

func readCSV(f *Feeder, data []byte, report func(line, col int, format string, args ...any)) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		report(1, 1, "feeder %s: the file is empty (want a CSV header row naming the columns)", f.Name)
		return
	}
	if err != nil {
		reportCSV(err, report)
		return
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		line, col := r.FieldPos(i)
		switch {
		case h == "":
			report(line, col, "feeder %s: column %d has no name in the header row", f.Name, i+1)
			return
		case seen[h]:
			report(line, col, "feeder %s: column %q appears twice in the header row", f.Name, h)
			return
		case strings.Contains(h, "{{") || strings.Contains(h, "}}"):
			report(line, col, "feeder %s: column name %q cannot contain {{ or }}", f.Name, h)
			return
		}
		seen[h] = true
	}
	f.Columns = header
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			reportCSV(err, report)
			return
		}
		if len(rec) != len(header) {
			line, _ := r.FieldPos(0)
			report(line, 1, "feeder %s: this row has %d fields, the header has %d", f.Name, len(rec), len(header))
			return
		}
		f.Rows = append(f.Rows, rec)
	}
}

func reportCSV(err error, report func(line, col int, format string, args ...any)) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		report(pe.Line, max(pe.Column, 1), "bad CSV: %v", pe.Err)
		return
	}
	report(1, 1, "bad CSV: %v", err)
}

func readJSONLines(f *Feeder, data []byte, lines []string, report func(line, col int, format string, args ...any)) {
	for i, text := range lines {
		if strings.TrimSpace(text) == "" {
			continue
		}
		cols, vals, col, msg := jsonObject(text)
		if msg != "" {
			report(i+1, col, "feeder %s: %s", f.Name, msg)
			return
		}
		if f.Columns == nil {
			f.Columns = cols
		} else if !slices.Equal(sorted(cols), sorted(f.Columns)) {
			report(i+1, 1, "feeder %s: this object's keys (%s) differ from the first line's (%s)",
				f.Name, strings.Join(cols, ", "), strings.Join(f.Columns, ", "))
			return
		}
		row := make([]string, len(f.Columns))
		for j, c := range cols {
			row[slices.Index(f.Columns, c)] = vals[j]
		}
		f.Rows = append(f.Rows, row)
	}
	if f.Columns == nil {
		report(1, 1, "feeder %s: the file is empty (want one JSON object per line)", f.Name)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// jsonObject reads one line holding a flat JSON object, keeping the order
// of its keys. Values must be strings, numbers, booleans or null ("").
func jsonObject(text string) (keys, vals []string, col int, msg string) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	colAt := func() int { return len([]rune(text[:min(int(d.InputOffset()), len(text))])) + 1 }
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, colAt(), "want one JSON object per line"
	}
	seen := map[string]bool{}
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, nil, colAt(), fmt.Sprintf("bad JSON: %v", err)
		}
		k := kt.(string)
		if seen[k] {
			return nil, nil, colAt(), fmt.Sprintf("key %q appears twice", k)
		}
		seen[k] = true
		at := colAt()
		vt, err := d.Token()
		if err != nil {
			return nil, nil, colAt(), fmt.Sprintf("bad JSON: %v", err)
		}
		var v string
		switch t := vt.(type) {
		case string:
			v = t
		case json.Number:
			v = t.String()
		case bool:
			v = strconv.FormatBool(t)
		case nil:
		default:
			return nil, nil, at + 1, fmt.Sprintf("the value of %q is an object or a list (want a string, number or boolean)", k)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	if _, err := d.Token(); err != nil {
		return nil, nil, colAt(), fmt.Sprintf("bad JSON: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, nil, colAt(), "unexpected text after the object (want one JSON object per line)"
	}
	if len(keys) == 0 {
		return nil, nil, 1, "the object has no keys"
	}
	return keys, vals, 0, ""
}
