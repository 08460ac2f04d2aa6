package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/importer"
	"github.com/surgeload/surge/internal/scenario"
)

const importLong = `Write a scenario file from what you already have: curl command lines,
a HAR recording from a browser's devtools, or an OpenAPI 3 document.
Importing is a pure conversion: nothing is sent. The scenario goes to
stdout, or to -o FILE; it has a comment header saying where it came from
and a small load (1 user for 30s) to edit.

Examples:
  surge import curl login.sh -o login.yaml        "Copy as cURL (bash)"
  pbpaste | surge import curl - > journey.yaml    "Copy all as cURL", from stdin
  surge import har checkout.har -o checkout.yaml
  surge import openapi petstore.yaml --base http://127.0.0.1:8080 -o api.yaml
  surge validate api.yaml && surge run api.yaml`

const importCurlLong = `Import curl command lines, as browsers' "Copy as cURL (bash)" and
"Copy all as cURL" write them: \-continued lines, '...', "..." and $'...'
quotes; several commands separated by newlines or ;. Each command is a step.
The most common origin becomes base: and its URLs are made relative.

Options read: -X -H -d --data --data-raw --data-binary --data-ascii
--data-urlencode --json -u -A -e -b -G -I --url --compressed; -L -k -s -S
-v -i -o --http1.1 --http2 change nothing here (-L, -k and --http* are
noted in the file's header). -F (multipart) is refused: the scenario format
cannot send it. Any other option is an error that names it.

A JSON body (a Content-Type with json, --json, or a body that parses as a
JSON object or array) becomes json:; a URL-encoded body becomes form: when
it reads back the same, else body:. Host, Content-Length and Connection are
dropped, and Accept-Encoding with --compressed.

Examples:
  surge import curl login.sh -o login.yaml
  surge import curl - < commands.txt`

const importHARLong = `Import a HAR 1.2 recording (JSON, as browsers' devtools export it):
its entries become steps, in order. The most common origin becomes base:
and its URLs are made relative; other origins stay absolute.

Left out by default: entries that are not HTTP(S), and static assets:
images, fonts, CSS and JavaScript, by response MIME type (image/*, font/*,
text/css, text/javascript, application/javascript...) or by extension (.png
.jpg .jpeg .gif .webp .avif .svg .ico .bmp .woff .woff2 .ttf .otf .eot .css
.js .mjs .map). Headers left out: pseudo-headers (:authority...), hop-by-hop
ones, Content-Length, Accept-Encoding, and Cookie (each user's cookie jar
keeps the cookies the server sets). Each step checks the recorded status,
and thinks for the recorded pause before the next request (rounded to
100ms, at most 5s).

Examples:
  surge import har checkout.har -o checkout.yaml
  surge import har --include-host api.example.com --no-think app.har`

const importOpenAPILong = `Import an OpenAPI 3.0 or 3.1 document (JSON or YAML): one step per
operation, in document order, in one flow. servers[0].url is the target; a
relative one (or none) needs --base, and --base replaces its scheme and
host (its path is kept). Swagger 2.0 is refused: convert it first.

Only GET and HEAD operations are imported unless --all-methods: a load test
that POSTs or DELETEs by surprise would change the target's data.
--operation picks operations by operationId, whatever their method.

Path parameters and required query and header parameters take the
document's example, examples, default or first enum value; a parameter
without one becomes a variable under vars: set to EDIT-ME, to edit. A JSON
request body is the media type's example, else built from its schema.
Each step checks the first 2xx status the operation declares.

Examples:
  surge import openapi petstore.yaml -o petstore.yaml
  surge import openapi api.json --base http://127.0.0.1:8080 --tag pets
  surge import openapi api.yaml --operation createPet --operation getPet`

// maxImportBytes bounds what an import reads.
const maxImportBytes = 64 << 20

// importOptions are the flags every import takes.
type importOptions struct {
	output string
	force  bool
}

func (o *importOptions) flags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write the scenario to `FILE` instead of stdout")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite the -o file if it exists")
}

func newImportCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import curl|har|openapi FILE",
		Short: "Write a scenario from curl commands, a HAR recording or an OpenAPI document",
		Long:  importLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("surge import: unknown kind %q (want curl, har or openapi)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newImportCurlCmd(env), newImportHARCmd(env), newImportOpenAPICmd(env))
	return cmd
}

func oneInput(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s takes one input file (or - for stdin), got %d arguments", cmd.CommandPath(), len(args))
	}
	return nil
}

func newImportCurlCmd(env Env) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "curl FILE|-",
		Short: "Import curl command lines",
		Long:  importCurlLong,
		Args:  oneInput,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(env, o, args[0], importer.Curl)
		},
	}
	o.flags(cmd)
	return cmd
}

func newImportHARCmd(env Env) *cobra.Command {
	var o importOptions
	var h importer.HAROptions
	cmd := &cobra.Command{
		Use:   "har FILE|-",
		Short: "Import a HAR recording from browser devtools",
		Long:  importHARLong,
		Args:  oneInput,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(env, o, args[0], func(name string, src []byte) (*importer.Doc, error) {
				return importer.HAR(name, src, h)
			})
		},
	}
	o.flags(cmd)
	cmd.Flags().StringArrayVar(&h.IncludeHosts, "include-host", nil, "import only requests to `HOST` (or HOST:PORT); repeatable")
	cmd.Flags().StringArrayVar(&h.ExcludeHosts, "exclude-host", nil, "leave out requests to `HOST` (or HOST:PORT); repeatable")
	cmd.Flags().BoolVar(&h.KeepStatic, "keep-static", false, "keep static assets (images, fonts, CSS, JavaScript)")
	cmd.Flags().BoolVar(&h.NoThink, "no-think", false, "no pauses between steps (by default, the recorded ones)")
	return cmd
}

func newImportOpenAPICmd(env Env) *cobra.Command {
	var o importOptions
	var a importer.OpenAPIOptions
	cmd := &cobra.Command{
		Use:   "openapi FILE|-",
		Short: "Import an OpenAPI 3.0 or 3.1 document",
		Long:  importOpenAPILong,
		Args:  oneInput,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(env, o, args[0], func(name string, src []byte) (*importer.Doc, error) {
				return importer.OpenAPI(name, src, a)
			})
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&a.Base, "base", "", "the target `URL` (http://HOST:PORT): needed when servers[0].url is relative or absent; replaces an absolute one's scheme and host")
	cmd.Flags().StringArrayVar(&a.Tags, "tag", nil, "import only operations with this `TAG`; repeatable")
	cmd.Flags().StringArrayVar(&a.Operations, "operation", nil, "import only the operation with operationId `ID`, whatever its method; repeatable")
	cmd.Flags().BoolVar(&a.AllMethods, "all-methods", false, "import POST, PUT, PATCH, DELETE... operations too (by default only GET and HEAD)")
	return cmd
}

// runImport reads the input, converts it, checks that the scenario loads,
// and writes it.
func runImport(env Env, o importOptions, input string, conv func(string, []byte) (*importer.Doc, error)) error {
	name := input
	var r io.Reader = env.Stdin
	if input == "-" {
		name = "stdin"
	} else {
		f, err := os.Open(input)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return usagef("%s: %v", input, err)
		}
		defer f.Close()
		r = f
	}
	src, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return usagef("%s: %v", name, err)
	}
	if len(src) > maxImportBytes {
		return usagef("%s: more than %d MiB is too large to import", name, maxImportBytes>>20)
	}
	if o.output != "" && !o.force {
		if _, err := os.Stat(o.output); err == nil {
			return usagef("-o %s: the file exists: add --force to overwrite it", o.output)
		}
	}
	doc, err := conv(name, src)
	if err != nil {
		return importError(env.Stderr, err)
	}
	out, err := doc.YAML()
	if err != nil {
		return err
	}
	check := "imported.yaml"
	if o.output != "" {
		check = o.output
	}
	if _, err := scenario.Parse(check, out); err != nil {
		return fmt.Errorf("the scenario written from %s does not load (a bug in surge import: please report it): %w", name, err)
	}
	if o.output == "" {
		_, err := env.Stdout.Write(out)
		return err
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(o.output, flag, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return usagef("-o %s: the file exists: add --force to overwrite it", o.output)
		}
		return usagef("-o %s: %v", o.output, err)
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return fmt.Errorf("-o %s: %w", o.output, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("-o %s: %w", o.output, err)
	}
	fmt.Fprintf(env.Stdout, "%s: %s from %s (check it with surge validate, run it with surge run)\n", o.output, plural(len(doc.Steps), "step"), name)
	return nil
}

// maxImportProblems is how many problems of an input are printed.
const maxImportProblems = 20

// importError prints each problem of an import on its own line, as
// every error surge prints (surge: FILE:LINE:COL: message), and
// returns the usage error (exit 2) that sums them up.
func importError(w io.Writer, err error) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for i, e := range list {
		if i == maxImportProblems {
			fmt.Fprintf(w, "surge: and %s\n", plural(len(list)-i, "more problem"))
			break
		}
		fmt.Fprintf(w, "surge: %s\n", oneLine(e.Error()))
	}
	return usageError{err: fmt.Errorf("%s; nothing was written", plural(len(list), "problem")), shown: true}
}
