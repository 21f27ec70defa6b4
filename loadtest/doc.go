// Package loadtest rehearses a launch-day spike against a running Foyer and
// judges the result.
//
// It is an HTTP client only: it speaks the JSON API of the waiting room and
// the booking core, and imports no server code. A run works on a room and an
// event of its own, set up through the admin API:
//
//  1. Virtual visitors arrive by the arrival profiles of a [Scenario]: a
//     burst, a ramp, Poisson arrivals and a crowd that arrives before the
//     room opens, in any combination.
//  2. Each visitor behaves like a browser: it keeps its own cookies, polls
//     no faster than the server's refresh interval and Retry-After, and may
//     abandon the line. Once admitted it lists slots, holds 1 to 4 places,
//     pays with the test payment provider (a share of cards is declined and
//     retried) and reads its order, or lets a share of holds expire.
//  3. After the run, the load tester reads the admission log, the event's
//     slots and its orders through the admin API, and tests the
//     invariants: no slot oversold, no visitor admitted twice, admission
//     order against join order (Kendall tau-b), the admission rate against
//     the configured rate, abandoned visitors using no admissions, and
//     every paid order having its tickets or being flagged for a refund.
//  4. [Report] holds the results. It is written as a text summary, a JSON
//     file and an HTML page with inline SVG charts.
//
// # Scale
//
// Visitors are plain structs, not goroutines. A scheduler keeps a min-heap
// of the next time each visitor acts, and a bounded pool of workers, which
// share a bounded pool of HTTP connections, runs the steps that are due. A
// visitor waiting in line costs a few hundred bytes; the report measures the
// actual figure for each run.
package loadtest
