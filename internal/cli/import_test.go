package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/importer"
	"github.com/surgeload/surge/internal/scenario"
)

// acceptCounter counts the connections a loopback listener accepts.
type acceptCounter struct {
	ln       net.Listener
	accepted chan net.Conn
}

func newAcceptCounter(t *testing.T) *acceptCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &acceptCounter{ln: ln, accepted: make(chan net.Conn, 64)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(a.accepted)
				return
			}
			a.accepted <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return a
}

// before returns how many connections were accepted before a sentinel
// connection made now: connections are accepted in the order they were
// made, so any made earlier shows up before the sentinel.
func (a *acceptCounter) before(t *testing.T) int {
	t.Helper()
	s, err := net.Dial("tcp", a.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	deadline := time.After(10 * time.Second)
	for {
		select {
		case c := <-a.accepted:
			c.Close()
			if c.RemoteAddr().String() == s.LocalAddr().String() {
				return n
			}
			n++
		case <-deadline:
			t.Fatal("the sentinel connection was not accepted within 10s")
		}
	}
}

// Importing is a pure conversion: importing requests aimed at a listener
// on 127.0.0.1 never connects to it.
func TestImportSendsNothing(t *testing.T) {
	a := newAcceptCounter(t)
	target := "http://" + a.ln.Addr().String()
	dir := t.TempDir()
	inputs := map[string]string{
		"curl": fmt.Sprintf("curl '%s/shop/login' -H 'Content-Type: application/json' --data-raw '{\"user\":\"u1\"}' -L\ncurl %s/shop/items", target, target),
		"har": fmt.Sprintf(`{"log": {"version": "1.2", "entries": [
			{"startedDateTime": "2026-11-20T10:00:00Z", "request": {"method": "GET", "url": "%s/a", "headers": []}, "response": {"status": 200}},
			{"startedDateTime": "2026-11-20T10:00:01Z", "request": {"method": "POST", "url": "%s/b", "headers": [], "postData": {"mimeType": "application/json", "text": "{}"}}, "response": {"status": 201}}]}}`, target, target),
		"openapi": fmt.Sprintf("openapi: 3.0.0\ninfo: {title: t, version: '1'}\nservers: [{url: '%s/v1'}]\npaths:\n  /items/{id}:\n    get:\n      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]\n      responses: {'200': {description: ok}}\n", target),
	}
	for kind, src := range inputs {
		in := filepath.Join(dir, kind+".in")
		if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, kind+".yaml")
		env, stdout, stderr := testEnv()
		if code := Main(context.Background(), env, []string{"import", kind, in, "-o", out}); code != ExitOK {
			t.Fatalf("surge import %s: exit %d, stderr %q", kind, code, stderr.String())
		}
		if !strings.HasPrefix(stdout.String(), out+": ") {
			t.Errorf("surge import %s -o: stdout %q", kind, stdout.String())
		}
		sc, err := scenario.LoadFile(out)
		if err != nil {
			t.Fatalf("surge import %s wrote a scenario that does not load: %v", kind, err)
		}
		if sc.Base != target {
			t.Errorf("surge import %s: base %q, want %q", kind, sc.Base, target)
		}
	}
	if n := a.before(t); n != 0 {
		t.Fatalf("importing made %d connections to the target", n)
	}
}

func TestImportOutputFileAndStdin(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "s.yaml")
	src := "curl http://127.0.0.1:8080/a"
	run := func(args ...string) (int, string, string) {
		env, stdout, stderr := testEnv()
		env.Stdin = strings.NewReader(src)
		code := Main(context.Background(), env, args)
		return code, stdout.String(), stderr.String()
	}
	code, stdout, _ := run("import", "curl", "-")
	if code != ExitOK || !strings.Contains(stdout, "# Imported by surge import curl from stdin: 1 command.") || !strings.Contains(stdout, "url: /a") {
		t.Fatalf("from stdin to stdout: exit %d, %q", code, stdout)
	}
	if code, _, stderr := run("import", "curl", "-", "-o", out); code != ExitOK {
		t.Fatalf("-o: exit %d, %q", code, stderr)
	}
	first, _ := os.ReadFile(out)
	src = "curl http://127.0.0.1:8080/b"
	code, _, stderr := run("import", "curl", "-", "-o", out)
	if want := "surge: -o " + out + ": the file exists: add --force to overwrite it\n"; code != ExitUsage || stderr != want {
		t.Fatalf("-o over a file: exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
	if again, _ := os.ReadFile(out); string(again) != string(first) {
		t.Fatal("-o without --force changed the file")
	}
	if code, _, stderr := run("import", "curl", "-", "-o", out, "--force"); code != ExitOK {
		t.Fatalf("--force: exit %d, %q", code, stderr)
	}
	if again, _ := os.ReadFile(out); !strings.Contains(string(again), "url: /b") {
		t.Fatalf("--force did not overwrite the file:\n%s", again)
	}
}

// Bad input: every problem on a line of its own, exit 2, nothing written.
func TestImportBadInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bad.sh")
	out := filepath.Join(dir, "out.yaml")
	if err := os.WriteFile(in, []byte("curl -F a=b http://127.0.0.1:8080/\ncurl --proxy-user x http://127.0.0.1:8080/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, stdout, stderr := testEnv()
	code := Main(context.Background(), env, []string{"import", "curl", in, "-o", out})
	want := "surge: " + in + ":1:6: -F (multipart/form-data): the scenario format cannot send multipart bodies; use -d or --json\n" +
		"surge: " + in + ":2:6: unknown curl option --proxy-user (surge import curl --help lists the ones it reads)\n"
	if code != ExitUsage || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant 2 and:\n%s", code, stdout.String(), stderr.String(), want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a bad input wrote the -o file")
	}
	many := filepath.Join(dir, "many.sh")
	if err := os.WriteFile(many, []byte(strings.Repeat("curl --nope http://127.0.0.1:8080/\n", 25)), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, stderr = testEnv()
	if code := Main(context.Background(), env, []string{"import", "curl", many}); code != ExitUsage {
		t.Errorf("25 problems: exit %d", code)
	}
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	if len(lines) != 21 || lines[20] != "surge: and 5 more problems" || !strings.HasPrefix(lines[19], "surge: "+many+":20:6: unknown curl option --nope") {
		t.Errorf("25 problems: want the first 20 and a count of the rest, got:\n%s", stderr.String())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "wget", "x"}, `surge: surge import: unknown kind "wget" (want curl, har or openapi)` + "\n"},
		{[]string{"import", "har"}, "surge: surge import har takes one input file (or - for stdin), got 0 arguments\n"},
		{[]string{"import", "openapi", filepath.Join(dir, "nope.yaml")}, "surge: " + filepath.Join(dir, "nope.yaml") + ": no such file or directory\n"},
	} {
		env, _, stderr := testEnv()
		if code := Main(context.Background(), env, c.args); code != ExitUsage || stderr.String() != c.want {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestREADMEImportExamples keeps the README's import examples true: the
// curl example's output is what surge import prints for the commands it
// shows, and the OpenAPI excerpt is how the petstore import begins.
func TestREADMEImportExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	block := func(after, fence string) string {
		i := strings.Index(text, after)
		if i < 0 {
			t.Fatalf("README has no %q", after)
		}
		rest := text[i:]
		j := strings.Index(rest, fence+"\n")
		k := strings.Index(rest[j+len(fence)+1:], "```\n")
		b := rest[j+len(fence)+1 : j+len(fence)+1+k]
		if j < 0 || k < 0 || strings.Count(b, "\n") < 3 {
			t.Fatalf("README's block after %q is not found or nearly empty: %q", after, b)
		}
		return b
	}
	shown := block("<!-- import-curl-example -->", "```")
	cmds := block("where login.sh holds:", "```sh")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "login.sh"), []byte(cmds), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	env, stdout, stderr := testEnv()
	if code := Main(context.Background(), env, []string{"import", "curl", "login.sh"}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := strings.TrimPrefix(shown, "$ surge import curl login.sh\n"); stdout.String() != want {
		t.Errorf("README shows:\n%s\nsurge import curl prints:\n%s", want, stdout.String())
	}

	excerpt := block("the first lines of what `surge import openapi petstore-3.0.yaml` writes:", "```")
	src, err := os.ReadFile(filepath.Join(wd(t), "../../internal/importer/testdata/openapi/petstore-3.0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("petstore-3.0.yaml", src, 0o644); err != nil {
		t.Fatal(err)
	}
	env, stdout, stderr = testEnv()
	if code := Main(context.Background(), env, []string{"import", "openapi", "petstore-3.0.yaml"}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), excerpt) {
		t.Errorf("README shows:\n%s\nsurge import openapi prints:\n%s", excerpt, stdout.String())
	}
}

var startDir, _ = os.Getwd()

// wd is the package's directory, whatever the test changed to.
func wd(*testing.T) string { return startDir }

// The HAR help says which static assets are left out: every extension and
// MIME type the importer drops is named there.
func TestImportHARHelpNamesStaticAssets(t *testing.T) {
	env, stdout, _ := testEnv()
	if code := Main(context.Background(), env, []string{"import", "har", "--help"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	help := strings.Join(strings.Fields(stdout.String()), " ")
	for _, ext := range importer.StaticExtensions {
		if !strings.Contains(help, ext+" ") && !strings.Contains(help, ext+")") {
			t.Errorf("surge import har --help does not name %s", ext)
		}
	}
	for _, mt := range []string{"image/*", "font/*", "text/css", "text/javascript", "application/javascript"} {
		if !strings.Contains(help, mt) {
			t.Errorf("surge import har --help does not name %s", mt)
		}
	}
}
