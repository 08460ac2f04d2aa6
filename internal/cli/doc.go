// Package cli is surge's command-line layer: one file per subcommand, each
// parsing its flags into a typed options value and calling the library
// packages. It is the only package that knows about flags, standard streams
// and exit codes; nothing imports it but cmd/surge.
package cli
