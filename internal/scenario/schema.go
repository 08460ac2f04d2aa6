package scenario

import _ "embed"

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of scenario files, for
// editors and other tools. It checks a file's shape only: LoadFile is the
// authority, and also checks variables, feeder files, URLs, regexps,
// checks and thresholds.
func Schema() []byte { return append([]byte(nil), schema...) }
