// Package penalty is the pure logic of seller penalties and seller performance standards:
// it validates violation reports, counts penalty points in the policy's ledgers, decides
// the sanctions that totals bring, gives EU notice where the operator turns it on, and
// computes the performance metrics of the last 60 days. It has no database and no clock:
// the store calls it inside a transaction with the seller's records and the time.
//
// # Violations
//
// A Report is validated by Resolve into a Violation of a seller: its type names a ledger
// and default points in standing.SellerPolicy. Reports of the same case (same seller, type
// and case id) are one violation: Key is the value the store keeps under a unique
// constraint, and a second report of a case returns the first violation unchanged; Apply
// reports it as a duplicate and counts nothing twice.
//
// # Ledgers
//
// Each violation counts its points in one ledger for standing.SellerPolicy.PointLifetime
// (365 days) after its time At, then falls off by itself: at now it counts while
// now < At+lifetime, so a violation 364 days old counts and one 366 days old does not.
// Ledgers are replayed in time order (At, then ID), and each new violation is judged by
// comparing the ledger's active total just before it with the total just after it, both
// taken at the violation's time. A ledger may combine the features below; each one that is
// set applies.
//
//   - daily_cap: at most DailyCap points count per UTC calendar day in the ledger; the rest
//     of a violation's points are kept as raw points but do not count (CountedPoints).
//   - every: when the total crosses one or more multiples of Every (before/Every <
//     after/Every), EverySanction is brought once, naming the highest multiple reached.
//   - thresholds: when the total reaches one or more thresholds it was below just before
//     (before < points <= after), the sanction of the highest such threshold is brought.
//     Only the one sanction: a jump from 10 to 26 points brings the 24-point sanction.
//   - strike_window: a case within StrikeWindow of the first case of the latest strike
//     (inclusive) joins that strike and brings nothing; any other case starts a new strike.
//     A strike counts for the point lifetime after its first case; the n-th active strike
//     brings Strikes[n-1], and strikes beyond the list bring the last sanction.
//
// "Reached before" therefore means "reached by the active total just before": when points
// have fallen off and the total climbs back over a threshold, the sanction is brought
// again. This is the natural reading of "points count for 365 days": a seller whose total
// is 12 again has earned what 12 brings again. A total that stays over a threshold while
// adding points brings nothing more.
//
// # Sanctions
//
// A Sanction of kind warning or fine removes no capability; the others become a
// restriction with reason seller_violation through Sanction.Restriction: listing_limit
// removes list_products, suspension removes list_products and receive_orders for its
// duration, closure removes everything but login, view_orders, withdraw_funds,
// receive_payouts and appeal, with no end: a closed seller can still be paid what buyers
// already owe them and can appeal.
//
// # EU notice
//
// With standing.EUPolicy.Enabled, Apply changes two kinds of sanction into notices:
//
//   - closure (P2B regulation, Art. 4): no closure is applied at once; a Notice of kind
//     closure with EffectiveAt = now + ClosureNotice is returned. The caller puts
//     Notice.NoticeRestriction() on the store (it removes nothing, and the seller can
//     appeal it before the closure) and schedules the closure; at EffectiveAt, unless that
//     restriction was lifted, it calls ClosureStillDue and, if still due, applies
//     Notice.Restriction().
//   - suspension (DSA Art. 23, prior warning): a suspension in a ledger where the seller has
//     no warning on record at now — no Warning of that ledger with At in
//     (now-PointLifetime, now] — becomes a Notice of kind warning, and no suspension is
//     applied. The caller records Outcome.WarningsIssued; the next suspension in that
//     ledger within the point lifetime applies. Warnings the policy itself brings (kind
//     warning) count as warnings on record too.
//
// # Performance
//
// Performance metrics count the orders placed on the last Window days (60 UTC calendar
// days ending with the day of now) in day buckets (DayCounts): order defect rate over
// orders, late shipment rate over shipped orders, pre-fulfilment cancellation rate over
// orders. A metric is breached when its rate is at or above the policy's number (the
// standard is "below 1 %"). PerfState keeps the buckets of one seller and is updated per
// order event, so a recompute reads at most Window buckets per seller instead of every
// order. Evaluate turns breaches into a warning first and into performance_breach points
// once per WarningGrace period while the metric stays breached.
//
// # Fines, fees and the dashboard
//
// A Fine is a ledger entry the marketplace collects; a Fee is a platform fee whose
// FeeRestriction pauses selling once it is unpaid past seller.fee_grace. SellerStanding is
// everything the seller dashboard and GET /v1/sellers/{id}/standing show, assembled by the
// store from these pieces and from Standing, PerfState.Metrics and PerfState.Series.
package penalty
