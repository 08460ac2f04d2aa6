// Package lab is surge's lab target: an HTTP API whose endpoints each
// reproduce one bottleneck class from the field reports (see PRODUCT.md,
// "Bottleneck classes"), with query-string knobs in the style of fortio's
// EchoHandler, so that a test or a user can ask for exactly the failure it
// wants to see and check surge's verdict against the endpoint's theory.
//
// Every endpoint keeps server-side counts (Server.Count and the Prometheus
// metrics on /metrics, served from the Server's own registry), so tests can
// check behaviour against theory without relying on timing alone.
//
// Lifecycle: DefaultConfig, adjust, New (validates and builds the table),
// then either Serve, or mount Handler in a server of your own. The lab only
// ever listens on loopback: Config.Validate refuses any other address.
//
// A Server is safe for concurrent use by any number of requests; Serve may
// be called more than once (one after the other or at the same time on
// different addresses), and all calls share the Server's state.
package lab
