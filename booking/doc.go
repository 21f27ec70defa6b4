// Package booking is Foyer's booking core: events with timed-entry slots,
// holds that take places for a limited time, payments and orders.
//
// # Model
//
// An [Event] is guarded by one waiting room and has [Slot]s, each with a
// capacity shared by all of the event's ticket types. A visitor who was
// admitted by the waiting room exchanges the admission token once for a
// [Session] and then places a [Hold]: n places of one slot, taken if and only
// if n are free, in one atomic step. A hold expires by itself after the
// event's hold lifetime unless a payment confirms it into an [Order].
//
// For every slot, sold + unexpired held ≤ capacity is true at every moment.
// Expired holds count as free places from the instant they expire, so no
// background sweeper is needed for correctness. Expired holds stay findable
// for [HoldRetention], so that a late payment can still be matched: it
// becomes a confirmed order if the places are still free, and an order in
// state needs_refund otherwise. A webhook's payment of another amount than
// the hold's price also becomes an order in state needs_refund.
//
// # Stores
//
// [Store] is implemented by booking/memstore (one process, state lost on
// restart) and booking/redisstore (production, one Lua script per atomic
// operation). Both pass the conformance suite in booking/storetest. Time
// comes from the store: Redis TIME in scripts, an injected clock in memory.
//
// # Paying
//
// [Service] runs the steps around a hold: it charges a card through
// [Payments] ([TestPayments] in tests and demos), confirms the hold, verifies
// payment webhooks signed by [WebhookSigner], and tells a [Releaser] to free
// the visitor's place in the waiting room once the hold is confirmed or has
// expired.
//
// # Errors
//
// Failures that a client can act on are sentinel errors such as [ErrSoldOut],
// checked with errors.Is. [ErrorCode] returns the stable code string that
// the HTTP API sends for an error.
package booking

import (
	// Embeds the IANA time zone database, so event time zones load on
	// machines without system zoneinfo.
	_ "time/tzdata"
)
