// Package importer turns what users already have (curl command lines, HAR
// recordings from browser devtools, OpenAPI 3 documents) into surge
// scenario files. Importing is a pure conversion: nothing is ever sent.
// Each input becomes a Doc, whose YAML method writes the scenario with its
// keys in the order a person writes them and a comment header saying where
// it came from.
package importer
