// Package metrics collects the outcomes of a load test: latency and send-lag
// histograms, status codes, error classes, and a per-interval timeline.
//
// Outcomes are recorded into a fixed number of shards (one per CPU, not one
// per user), each behind its own lock, so recording scales with cores while
// memory stays bounded by the configuration: no raw sample is kept, and the
// timeline has a fixed maximum number of points whatever the run's length.
package metrics
