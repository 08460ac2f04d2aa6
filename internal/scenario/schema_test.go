package scenario

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("scenario.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("scenario.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlValue decodes a YAML document into the values JSON would give.
func yamlValue(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestExamples checks every example file of the repository, and every
// good test file: each validates against the schema and loads.
func TestExamples(t *testing.T) {
	s := compileSchema(t)
	examples, _ := filepath.Glob("../../examples/*.yaml")
	if len(examples) < 4 {
		t.Fatalf("%d example files, want at least 4", len(examples))
	}
	good, _ := filepath.Glob("testdata/good/*.yaml")
	for _, f := range append(examples, good...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(yamlValue(t, src)); err != nil {
			t.Errorf("%s does not match the schema: %v", f, err)
		}
		if _, err := LoadFile(f); err != nil {
			t.Errorf("LoadFile(%s): %v", f, err)
		}
	}
}

// TestSchemaRejects makes sure the schema is not vacuous: shapes that
// LoadFile rejects are rejected by the schema too, at the right place.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	cases := []struct{ src, where string }{
		{"stepz: [{url: /a}]", "/"},
		{"steps: [{url: /a, methd: POST}]", "/steps/0"},
		{"steps: [{name: a}]", "/steps/0"},
		{"load: {users: many}\nsteps: [{url: /a}]", "/load/users"},
		{"load: {users: 1, rate: 2}\nsteps: [{url: /a}]", "/load"},
		{"load: {duration: 10}\nsteps: [{url: /a}]", "/load/duration"},
		{"load: {stages: [{over: 5s}]}\nsteps: [{url: /a}]", "/load/stages/0"},
		{"steps: [{url: /a, body: x, json: {a: 1}}]", "/steps/0"},
		{"load: {rate: 5, think: 1s}\nsteps: [{url: /a}]", "/load"},
		{"load: {users: 5, ramp: 1s, stages: [{hold: 1s}]}\nsteps: [{url: /a}]", "/load"},
		{"steps: [{url: /a, check: [statuss==200]}]", "/steps/0/check"},
		{"steps: [{url: /a, extract: {t: {json: a, header: b}}}]", "/steps/0/extract/t"},
		{"steps: [{url: /a, on_error: ignore}]", "/steps/0/on_error"},
		{"data: {a: {file: a.csv, order: shuffled}}\nsteps: [{url: /a}]", "/data/a/order"},
		{"flows: [{name: a, weight: 0, steps: [{url: /a}]}]", "/flows/0/weight"},
		{"flows: [{steps: [{url: /a}]}]\nsteps: [{url: /b}]", ""},
		{"base: http://h", ""},
	}
	for _, c := range cases {
		err := s.Validate(yamlValue(t, []byte(c.src)))
		if err == nil {
			t.Errorf("%q matches the schema, want an error at %q", c.src, c.where)
			continue
		}
		if ve, ok := err.(*jsonschema.ValidationError); ok && c.where != "" {
			if !hasLocation(ve, c.where) {
				t.Errorf("%q: no error at %s: %v", c.src, c.where, err)
			}
		}
	}
}

func hasLocation(ve *jsonschema.ValidationError, where string) bool {
	if "/"+strings.Join(ve.InstanceLocation, "/") == where {
		return true
	}
	for _, c := range ve.Causes {
		if hasLocation(c, where) {
			return true
		}
	}
	return false
}
