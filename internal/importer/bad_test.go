package importer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/importer"
	"github.com/surgeload/surge/internal/scenario"
)

const noEscape = "a scenario reads {{ as the start of a variable, and the format has no escape for it: edit the input"

// The bad-input corpus: each input, and every line of the error it gets.
var badCases = []struct {
	name, file, src string
	conv            func(string, []byte) (*importer.Doc, error)
	want            []string
}{
	{"curl unknown option", "in.sh", "curl --foo http://127.0.0.1:8080/", importer.Curl,
		[]string{"in.sh:1:6: unknown curl option --foo (surge import curl --help lists the ones it reads)"}},
	{"curl unknown short option in a cluster", "in.sh", "curl -sZ http://127.0.0.1:8080/", importer.Curl,
		[]string{"in.sh:1:6: unknown curl option -Z (in -sZ) (surge import curl --help lists the ones it reads)"}},
	{"curl a line per problem", "in.sh", "curl -F a=b http://127.0.0.1:8080/ \\\n  --proxy http://127.0.0.1:3128\ncurl -d @body.json http://127.0.0.1:8080/", importer.Curl,
		[]string{
			"in.sh:1:6: -F (multipart/form-data): the scenario format cannot send multipart bodies; use -d or --json",
			"in.sh:2:3: unknown curl option --proxy (surge import curl --help lists the ones it reads)",
			"in.sh:3:6: -d @body.json reads a file: importing reads no files; paste the content with --data-raw",
		}},
	{"curl unterminated quote", "in.sh", "curl -H 'a: b' \"http://127.0.0.1:8080/", importer.Curl,
		[]string{`in.sh:1:16: unterminated " quote`}},
	{"curl unterminated ANSI-C quote", "in.sh", "curl $'http://127.0.0.1:8080/\\'", importer.Curl,
		[]string{`in.sh:1:6: unterminated $' quote`}},
	{"curl command substitution", "in.sh", "curl -H \"X-Date: $(date)\" http://127.0.0.1:8080/", importer.Curl,
		[]string{`in.sh:1:18: $(...): importing expands no shell variables or commands: write the value itself`}},
	{"curl shell variable", "in.sh", `curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/`, importer.Curl,
		[]string{"in.sh:1:32: $TOKEN: importing expands no shell variables or commands: write the value itself"}},
	{"curl pipe", "in.sh", "curl http://127.0.0.1:8080/ | jq .", importer.Curl,
		[]string{`in.sh:1:29: "|": importing reads curl commands only, without pipes, redirections or subshells`}},
	{"not curl", "in.sh", "wget http://127.0.0.1:8080/", importer.Curl,
		[]string{`in.sh:1:1: "wget" is not a curl command (each command must start with curl)`}},
	{"curl no URL", "in.sh", "curl -s", importer.Curl,
		[]string{"in.sh:1:1: curl command without a URL"}},
	{"curl two URLs", "in.sh", "curl http://127.0.0.1:8080/a http://127.0.0.1:8080/b", importer.Curl,
		[]string{`in.sh:1:30: a second URL "http://127.0.0.1:8080/b": import one URL per curl command`}},
	{"curl option without its value", "in.sh", "curl http://127.0.0.1:8080/ -H", importer.Curl,
		[]string{"in.sh:1:29: curl option -H needs a value"}},
	{"curl header without a colon", "in.sh", "curl -H Accept http://127.0.0.1:8080/", importer.Curl,
		[]string{`in.sh:1:6: -H "Accept" is not a header (want Name: value)`}},
	{"curl user without password", "in.sh", "curl -u admin http://127.0.0.1:8080/", importer.Curl,
		[]string{`in.sh:1:6: -u "admin" has no password (want USER:PASSWORD; curl would ask for it)`}},
	{"curl cookie file", "in.sh", "curl -b cookies.txt http://127.0.0.1:8080/", importer.Curl,
		[]string{"in.sh:1:6: -b cookies.txt reads a cookie file: importing reads no files; write the cookies as -b 'name=value; name2=value2'"}},
	{"curl ftp", "in.sh", "curl ftp://127.0.0.1/file", importer.Curl,
		[]string{`in.sh:1:6: "ftp://127.0.0.1/file": scheme ftp is not supported (want http or https)`}},
	{"curl bad method", "in.sh", "curl -X '000' http://127.0.0.1:8080/", importer.Curl,
		[]string{`in.sh:1:1: -X "000": a step cannot send this method (want GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or another token in capitals)`}},
	{"curl empty", "in.sh", "# nothing here\n\n", importer.Curl,
		[]string{"in.sh: no curl command in the input"}},
	{"curl template in a header", "in.sh", "curl -H 'X-Tpl: {{name}}' http://127.0.0.1:8080/", importer.Curl,
		[]string{`in.sh:1:1: header X-Tpl "{{name}}": ` + noEscape}},
	{"curl template in a JSON body", "in.sh", `curl --json '{"q":"{{x}}"}' http://127.0.0.1:8080/`, importer.Curl,
		[]string{`in.sh:1:1: the JSON body "{{x}}": ` + noEscape}},

	{"har not JSON", "in.har", "{\"log\": {\n  \"entries\": [,]}}", har(importer.HAROptions{}),
		[]string{"in.har:2:15: not valid JSON: invalid character ',' looking for beginning of value"}},
	{"har wrong type", "in.har", "{\"log\": {\n  \"entries\": {}}}", har(importer.HAROptions{}),
		[]string{"in.har:2:14: log.entries: want a JSON array, got a JSON object"}},
	{"har number for a string", "in.har", "{\"log\": {\"entries\": [{\"request\": {\"url\": 12345}}]}}", har(importer.HAROptions{}),
		[]string{"in.har:1:42: log.entries.request.url: want a JSON string, got a JSON number"}},
	{"har without log", "in.har", `{"entries": []}`, har(importer.HAROptions{}),
		[]string{"in.har: not a HAR file: it has no log object"}},
	{"har string for a number", "in.har", "{\"log\": {\"entries\": [\n {\"time\": \"slow\"}]}}", har(importer.HAROptions{}),
		[]string{"in.har:2:11: log.entries.time: want a JSON number, got a JSON string"}},
	{"har only static assets", "in.har", `{"log": {"entries": [{"request": {"method": "GET", "url": "http://127.0.0.1:8080/a.png"}, "response": {"status": 200}}, {"request": {"method": "GET", "url": "data:,x"}}]}}`, har(importer.HAROptions{}),
		[]string{"in.har: no request left to import (2 entries: 1 static assets, 1 not HTTP(S), 0 left out by host)"}},
	{"har template in a header", "in.har", `{"log": {"entries": [{"request": {"method": "GET", "url": "http://127.0.0.1:8080/", "headers": [{"name": "X-A", "value": "{{a}}"}]}}]}}`, har(importer.HAROptions{}),
		[]string{`in.har: entry 1 (GET http://127.0.0.1:8080/): header X-A "{{a}}": ` + noEscape}},

	{"swagger 2", "in.yaml", "swagger: \"2.0\"\npaths: {}\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: Swagger 2.0 is not supported: convert it to OpenAPI 3 first (for example with swagger2openapi, or editor.swagger.io's Convert)"}},
	{"openapi 4", "in.yaml", "openapi: 4.0.0\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: OpenAPI 4.0.0 is not supported (want 3.0 or 3.1)"}},
	{"swagger 2 unquoted", "in.yaml", "swagger: 2.0\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: Swagger 2.0 is not supported: convert it to OpenAPI 3 first (for example with swagger2openapi, or editor.swagger.io's Convert)"}},
	{"not openapi", "in.yaml", "name: x\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: not an OpenAPI document: it has no openapi: version"}},
	{"openapi bad YAML", "in.yaml", "openapi: 3.0.0\npaths:\n  /a: [\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml:3:7: not valid YAML or JSON: sequence end token ']' not found"}},
	{"openapi relative server", "in.yaml", "openapi: 3.1.0\nservers: [{url: /api}]\npaths: {}\n", openapi(importer.OpenAPIOptions{}),
		[]string{`in.yaml: servers[0].url "/api" is relative: give the target with --base http://HOST:PORT`}},
	{"openapi no server", "in.yaml", "openapi: 3.1.0\npaths: {}\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: the document names no server: give the target with --base http://HOST:PORT"}},
	{"openapi bad base", "in.yaml", "openapi: 3.1.0\npaths: {}\n", openapi(importer.OpenAPIOptions{Base: "127.0.0.1:8080"}),
		[]string{`in.yaml: --base "127.0.0.1:8080": want an absolute http:// or https:// URL`}},
	{"openapi only unsafe methods", "in.yaml", "openapi: 3.0.0\nservers: [{url: 'http://127.0.0.1:8080'}]\npaths:\n  /a:\n    post: {responses: {}}\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: no operation to import (1 operation left out: only GET and HEAD are imported unless --all-methods)"}},
	{"openapi unknown operation and tag", "in.yaml", "openapi: 3.0.0\nservers: [{url: 'http://127.0.0.1:8080'}]\npaths:\n  /a:\n    get: {operationId: getA, tags: [a], responses: {}}\n", openapi(importer.OpenAPIOptions{Operations: []string{"getB"}, Tags: []string{"b"}}),
		[]string{"in.yaml: --operation getB: no operation has this operationId", "in.yaml: --tag b: no operation has this tag"}},
	{"openapi external ref", "in.yaml", "openapi: 3.0.0\nservers: [{url: 'http://127.0.0.1:8080'}]\npaths:\n  /a/{x}:\n    get:\n      parameters: [{$ref: 'common.yaml#/x'}]\n", openapi(importer.OpenAPIOptions{}),
		[]string{`in.yaml: GET /a/{x}: $ref "common.yaml#/x" points outside the document: importing reads one file`}},
	{"openapi undeclared path parameter", "in.yaml", "openapi: 3.0.0\nservers: [{url: 'http://127.0.0.1:8080'}]\npaths:\n  /a/{x}:\n    get: {}\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: GET /a/{x}: path parameter {x} is not declared"}},
	{"openapi alias bomb", "in.yaml", "openapi: 3.0.0\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", openapi(importer.OpenAPIOptions{}),
		[]string{"in.yaml: too large: its YAML aliases expand to more than 1000000 values"}},
	{"openapi template in an example", "in.yaml", "openapi: 3.0.0\nservers: [{url: 'http://127.0.0.1:8080'}]\npaths:\n  /a:\n    get:\n      parameters: [{name: X-A, in: header, required: true, example: '{{a}}'}]\n", openapi(importer.OpenAPIOptions{}),
		[]string{`in.yaml: GET /a: header X-A "{{a}}": ` + noEscape}},
}

func TestBadInputs(t *testing.T) {
	for _, c := range badCases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := c.conv(c.file, []byte(c.src))
			if err == nil {
				t.Fatalf("imported without an error: %+v", doc)
			}
			var got []string
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					got = append(got, e.Error())
				}
			} else {
				got = []string{err.Error()}
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			for _, e := range got {
				if strings.Contains(e, "\n") {
					t.Errorf("a message on more than one line: %q", e)
				}
			}
			var ie *importer.Error
			if !errors.As(err, &ie) {
				t.Errorf("%T is not an *importer.Error", err)
			}
		})
	}
}

// A schema whose every level refers ten times to the next would build a
// body of 10^8 values: the body is cut at a bound, and it still loads.
func TestSchemaFanOutIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("openapi: 3.1.0\nservers: [{url: 'http://127.0.0.1:8080'}]\npaths:\n  /a:\n    post:\n")
	b.WriteString("      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/L0'}}}}\n")
	b.WriteString("components:\n  schemas:\n")
	for l := 0; l < 8; l++ {
		b.WriteString("    L" + string(rune('0'+l)) + ":\n      type: object\n      properties:\n")
		for p := 0; p < 10; p++ {
			next := "{type: integer}"
			if l < 7 {
				next = "{$ref: '#/components/schemas/L" + string(rune('0'+l+1)) + "'}"
			}
			b.WriteString("        p" + string(rune('0'+p)) + ": " + next + "\n")
		}
	}
	doc, err := importer.OpenAPI("fan.yaml", []byte(b.String()), importer.OpenAPIOptions{AllMethods: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := doc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "\n"); n > 5000 {
		t.Fatalf("the body built from the schema has %d lines", n)
	}
	if _, err := scenario.Parse("fan.yaml", out); err != nil {
		t.Fatalf("does not load: %v", err)
	}
}

// openapi: 3.0 unquoted is a YAML number, and still OpenAPI 3.0.
func TestOpenAPIVersionAsANumber(t *testing.T) {
	src := "openapi: 3.0\nservers: [{url: 'http://127.0.0.1:8080'}]\npaths:\n  /a:\n    get: {responses: {200: {description: ok}}}\n"
	doc, err := importer.OpenAPI("in.yaml", []byte(src), importer.OpenAPIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Steps) != 1 || doc.Steps[0].URL != "/a" || len(doc.Steps[0].Checks) != 1 || doc.Steps[0].Checks[0] != "status==200" {
		t.Fatalf("steps %+v", doc.Steps[0])
	}
}
