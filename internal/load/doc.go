// Package load is surge's load engine. It runs a Plan, in the closed model
// (N virtual users, each sending its next request when the previous one
// returns, plus think time) or in the open model (arrivals on a schedule,
// independent of responses), and hands every outcome to a Sink.
//
// A closed-model user, or an open-model worker, is a goroutine that calls
// Doer.Do, or, when its Doer is a client.Starter (HTTP/1.1 on Linux, HTTP/2),
// callbacks run by the client's event loops: then a request in flight holds
// no goroutine at all.
//
// Schedules are pure values (Users, Arrivals) that can be tested without a
// clock. In the open model, latency is measured from the moment a request
// was due, not from when it was actually sent, so a slow target or a
// saturated generator cannot hide queueing delay (no coordinated omission);
// how late each request was sent is recorded too, and arrivals that could
// not be sent before the end of the run are counted as dropped.
package load
