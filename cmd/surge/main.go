// Command surge is a load-testing and capacity tool for HTTP APIs: it finds
// how many concurrent users an API supports and names what breaks first.
//
// All behaviour lives in internal packages; this file only hands the process
// (arguments, standard streams, signals) to the CLI layer and exits with the
// code it returns.
package main

import (
	"context"
	"os"

	"github.com/surgeload/surge/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), cli.OSEnv(), os.Args[1:]))
}
