package standing

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// OrderStatus is where a marketplace order is in its life, as the marketplace reports it
// (and closed_by_risk, which only Standing's rules set).
//
//	stateDiagram-v2
//	    [*] --> pending_payment
//	    [*] --> paid: reported already paid
//	    pending_payment --> paid
//	    pending_payment --> cancelled
//	    paid --> shipped
//	    paid --> cancelled
//	    shipped --> completed
//	    pending_payment --> closed_by_risk: a rule closed it
//	    paid --> closed_by_risk: a rule closed it
//	    shipped --> closed_by_risk: a rule closed it
//	    completed --> [*]
//	    cancelled --> [*]
//	    closed_by_risk --> [*]
type OrderStatus string

// The order statuses.
const (
	OrderPendingPayment OrderStatus = "pending_payment"
	OrderPaid           OrderStatus = "paid"
	OrderShipped        OrderStatus = "shipped"
	OrderCompleted      OrderStatus = "completed"
	OrderCancelled      OrderStatus = "cancelled"
	OrderClosedByRisk   OrderStatus = "closed_by_risk"
)

// Valid reports whether s is a known status.
func (s OrderStatus) Valid() bool {
	switch s {
	case OrderPendingPayment, OrderPaid, OrderShipped, OrderCompleted, OrderCancelled, OrderClosedByRisk:
		return true
	}
	return false
}

// Active reports whether an order in status s is still under way: it counts in the
// active_orders feature, a freeze closes it, and it blocks the deletion of the account.
func (s OrderStatus) Active() bool {
	return s == OrderPendingPayment || s == OrderPaid || s == OrderShipped
}

// ActiveOrderStatuses lists the statuses Active reports, for queries.
var ActiveOrderStatuses = []OrderStatus{OrderPendingPayment, OrderPaid, OrderShipped}

// Transition checks the move from s to next made by the marketplace. closed_by_risk is
// Standing's to set, never the marketplace's; a terminal status never changes. The error
// is ECONFLICT for a move the state does not allow and EINVALID for an unknown status.
func (s OrderStatus) Transition(next OrderStatus) error {
	if !next.Valid() {
		return FieldErrorf(EINVALID, "status", "unknown order status %q; known: pending_payment, paid, shipped, completed, cancelled", next)
	}
	if next == OrderClosedByRisk {
		return FieldErrorf(EINVALID, "status", "closed_by_risk is set by Standing's risk rules, not reported by the marketplace")
	}
	ok := false
	switch s {
	case OrderPendingPayment:
		ok = next == OrderPaid || next == OrderCancelled
	case OrderPaid:
		ok = next == OrderShipped || next == OrderCancelled
	case OrderShipped:
		ok = next == OrderCompleted
	}
	if !ok {
		return FieldErrorf(ECONFLICT, "status", "an order cannot go from %s to %s", s, next)
	}
	return nil
}

// Who cancelled an order; seller cancellations before shipment count against the seller's
// performance.
const (
	CancelledByBuyer       = "buyer"
	CancelledBySeller      = "seller"
	CancelledByMarketplace = "marketplace"
)

// Order is the minimum of a marketplace order the rules, seller performance, tracking and
// deletion preconditions need. Amount is in minor units of Currency (cents for EUR).
type Order struct {
	ID             string      `json:"id"`
	ExternalID     string      `json:"external_id,omitempty"`
	BuyerID        string      `json:"buyer_id"`
	SellerID       string      `json:"seller_id"`
	Amount         int64       `json:"amount"`
	Currency       string      `json:"currency"`
	Status         OrderStatus `json:"status"`
	RecipientName  string      `json:"recipient_name,omitempty"`
	TrackingNumber string      `json:"tracking_number,omitempty"`
	// ClosedReasonCode, ClosedReason and ClosedRestrictionID are set when a rule closed the
	// order: the catalog reason, the words shown to the buyer, and the restriction the
	// buyer can appeal.
	ClosedReasonCode    string `json:"closed_reason_code,omitempty"`
	ClosedReason        string `json:"closed_reason,omitempty"`
	ClosedRestrictionID string `json:"closed_restriction_id,omitempty"`
	ClosedRuleID        string `json:"closed_rule_id,omitempty"`
	// The times of the order's life; seller performance reads ShipBy, ShippedAt and
	// CancelledAt with CancelledBy.
	PlacedAt    time.Time  `json:"placed_at"`
	ShipBy      *time.Time `json:"ship_by,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	ShippedAt   *time.Time `json:"shipped_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Address is a postal address. Orders and events carry shipping addresses so that accounts
// shipping to one place can be linked; Standing keeps only a keyed hash of it and a masked
// form, never the address itself.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code,omitempty"`
	Region     string `json:"region,omitempty"`
	Country    string `json:"country"`
}

// NewOrder is an order reported by the marketplace.
type NewOrder struct {
	ExternalID     string      `json:"external_id,omitempty"`
	BuyerID        string      `json:"buyer_id"`
	SellerID       string      `json:"seller_id"`
	Amount         int64       `json:"amount"`
	Currency       string      `json:"currency"`
	Status         OrderStatus `json:"status,omitempty"`
	RecipientName  string      `json:"recipient_name,omitempty"`
	TrackingNumber string      `json:"tracking_number,omitempty"`
	// ShippingAddress is indexed as an identity detail of the buyer (hashed); not stored.
	ShippingAddress *Address   `json:"shipping_address,omitempty"`
	PlacedAt        time.Time  `json:"placed_at,omitzero"`
	ShipBy          *time.Time `json:"ship_by,omitempty"`
	// Identity holds the shipping address, hashed by the API layer. Not part of the JSON.
	Identity []IdentityAttribute `json:"-"`
}

// Limits of the ledger's text fields.
const (
	MaxTrackingLen = 64
	MaxAmount      = 1 << 50
)

// Validate checks and normalises the order: ids present, amount not negative, currency an
// ISO 4217 code, a starting status (pending_payment, the default, or paid), the lengths of
// the texts. Errors name the field.
func (n *NewOrder) Validate(now time.Time) error {
	n.BuyerID, n.SellerID = strings.TrimSpace(n.BuyerID), strings.TrimSpace(n.SellerID)
	if n.BuyerID == "" {
		return FieldErrorf(EINVALID, "buyer_id", "buyer_id is required")
	}
	if n.SellerID == "" {
		return FieldErrorf(EINVALID, "seller_id", "seller_id is required")
	}
	if n.BuyerID == n.SellerID {
		return FieldErrorf(EINVALID, "seller_id", "the buyer and the seller are the same account")
	}
	if len(n.ExternalID) > MaxExternalLen {
		return FieldErrorf(EINVALID, "external_id", "external_id is longer than %d characters", MaxExternalLen)
	}
	if n.Amount < 0 || n.Amount > MaxAmount {
		return FieldErrorf(EINVALID, "amount", "amount is in minor units (cents) and must be from 0 to %d, not %d", int64(MaxAmount), n.Amount)
	}
	cur, err := NormalizeCurrency(n.Currency)
	if err != nil {
		return err
	}
	n.Currency = cur
	switch n.Status {
	case "":
		n.Status = OrderPendingPayment
	case OrderPendingPayment, OrderPaid:
	default:
		if !n.Status.Valid() {
			return FieldErrorf(EINVALID, "status", "unknown order status %q", n.Status)
		}
		return FieldErrorf(EINVALID, "status", "a new order starts as pending_payment or paid, not %s; report it, then change its status", n.Status)
	}
	n.RecipientName = strings.TrimSpace(n.RecipientName)
	if utf8.RuneCountInString(n.RecipientName) > MaxNameLen {
		return FieldErrorf(EINVALID, "recipient_name", "recipient_name is longer than %d characters", MaxNameLen)
	}
	tn, err := NormalizeTracking(n.TrackingNumber)
	if err != nil {
		return err
	}
	n.TrackingNumber = tn
	if n.PlacedAt.IsZero() || n.PlacedAt.After(now) {
		n.PlacedAt = now
	}
	n.PlacedAt = n.PlacedAt.UTC()
	if n.ShipBy != nil {
		t := n.ShipBy.UTC()
		if t.Before(n.PlacedAt) {
			return FieldErrorf(EINVALID, "ship_by", "ship_by is before the order was placed")
		}
		n.ShipBy = &t
	}
	return nil
}

// NormalizeTracking trims a tracking number and upper-cases it (carriers print them in
// capitals, and people type them any way); it must be 4 to 64 letters, digits and '-'.
// An empty number stays empty.
func NormalizeTracking(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if len(s) < 4 || len(s) > MaxTrackingLen || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		return "", FieldErrorf(EINVALID, "tracking_number", "a tracking number is 4 to %d letters, digits and dashes", MaxTrackingLen)
	}
	return s, nil
}

// OrderPatch is a change the marketplace reports; nil fields stay as they are.
type OrderPatch struct {
	Status         *OrderStatus `json:"status,omitempty"`
	TrackingNumber *string      `json:"tracking_number,omitempty"`
	RecipientName  *string      `json:"recipient_name,omitempty"`
	ShipBy         *time.Time   `json:"ship_by,omitempty"`
	// CancelledBy says who cancelled (buyer, seller, marketplace) when Status is cancelled.
	CancelledBy string `json:"cancelled_by,omitempty"`
	// At is when the change happened at the marketplace; zero means now.
	At time.Time `json:"at,omitzero"`
}

// Validate checks the patch on its own; the transition is checked against the stored order.
func (p *OrderPatch) Validate(now time.Time) error {
	if p.Status == nil && p.TrackingNumber == nil && p.RecipientName == nil && p.ShipBy == nil {
		return Errorf(EINVALID, "the patch changes nothing; give status, tracking_number, recipient_name or ship_by")
	}
	if p.TrackingNumber != nil {
		tn, err := NormalizeTracking(*p.TrackingNumber)
		if err != nil {
			return err
		}
		p.TrackingNumber = &tn
	}
	if p.RecipientName != nil {
		n := strings.TrimSpace(*p.RecipientName)
		if utf8.RuneCountInString(n) > MaxNameLen {
			return FieldErrorf(EINVALID, "recipient_name", "recipient_name is longer than %d characters", MaxNameLen)
		}
		p.RecipientName = &n
	}
	switch p.CancelledBy {
	case "", CancelledByBuyer, CancelledBySeller, CancelledByMarketplace:
	default:
		return FieldErrorf(EINVALID, "cancelled_by", "cancelled_by is buyer, seller or marketplace, not %q", p.CancelledBy)
	}
	if p.CancelledBy != "" && (p.Status == nil || *p.Status != OrderCancelled) {
		return FieldErrorf(EINVALID, "cancelled_by", "cancelled_by goes with status cancelled")
	}
	if p.At.IsZero() || p.At.After(now) {
		p.At = now
	}
	p.At = p.At.UTC()
	return nil
}

// DisputeStatus is open or resolved.
type DisputeStatus string

// The dispute statuses.
const (
	DisputeOpen     DisputeStatus = "open"
	DisputeResolved DisputeStatus = "resolved"
)

// Dispute is a buyer's dispute on an order. Disputes are the order defects of seller
// performance and the numerator of the dispute ratio.
type Dispute struct {
	ID         string        `json:"id"`
	ExternalID string        `json:"external_id,omitempty"`
	OrderID    string        `json:"order_id"`
	BuyerID    string        `json:"buyer_id"`
	SellerID   string        `json:"seller_id"`
	Status     DisputeStatus `json:"status"`
	Reason     string        `json:"reason,omitempty"`
	Outcome    string        `json:"outcome,omitempty"`
	OpenedAt   time.Time     `json:"opened_at"`
	ResolvedAt *time.Time    `json:"resolved_at,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// NewDispute is a dispute reported by the marketplace. The buyer and seller come from the
// order.
type NewDispute struct {
	ExternalID string    `json:"external_id,omitempty"`
	OrderID    string    `json:"order_id"`
	Reason     string    `json:"reason,omitempty"`
	OpenedAt   time.Time `json:"opened_at,omitzero"`
}

// Validate checks the dispute.
func (n *NewDispute) Validate(now time.Time) error {
	n.OrderID = strings.TrimSpace(n.OrderID)
	if n.OrderID == "" {
		return FieldErrorf(EINVALID, "order_id", "order_id is required")
	}
	if len(n.ExternalID) > MaxExternalLen {
		return FieldErrorf(EINVALID, "external_id", "external_id is longer than %d characters", MaxExternalLen)
	}
	if err := checkCode("reason", n.Reason); err != nil {
		return err
	}
	if n.OpenedAt.IsZero() || n.OpenedAt.After(now) {
		n.OpenedAt = now
	}
	n.OpenedAt = n.OpenedAt.UTC()
	return nil
}

// DisputePatch resolves a dispute.
type DisputePatch struct {
	Status  DisputeStatus `json:"status"`
	Outcome string        `json:"outcome,omitempty"`
	At      time.Time     `json:"at,omitzero"`
}

// Validate checks the patch: only resolving is a change the marketplace reports.
func (p *DisputePatch) Validate(now time.Time) error {
	if p.Status != DisputeResolved {
		return FieldErrorf(EINVALID, "status", "a dispute can only be resolved (status resolved), not set to %q", p.Status)
	}
	if err := checkCode("outcome", p.Outcome); err != nil {
		return err
	}
	if p.At.IsZero() || p.At.After(now) {
		p.At = now
	}
	p.At = p.At.UTC()
	return nil
}

// checkCode checks a short machine-readable code such as a dispute reason.
func checkCode(field, s string) error {
	if len(s) > 64 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return FieldErrorf(EINVALID, field, "%s is a code of up to 64 lower-case letters, digits and underscores, like not_received", field)
	}
	return nil
}

// Wallet is an account's balance in one currency, as the marketplace reports it. Deletion
// needs every balance at 0 (or forfeited).
type Wallet struct {
	AccountID string    `json:"account_id"`
	Currency  string    `json:"currency"`
	Balance   int64     `json:"balance"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WalletUpdate sets an account's balance in a currency.
type WalletUpdate struct {
	Balance  *int64 `json:"balance"`
	Currency string `json:"currency"`
}

// Validate checks the update.
func (u *WalletUpdate) Validate() error {
	if u.Balance == nil {
		return FieldErrorf(EINVALID, "balance", "balance is required, in minor units (cents)")
	}
	if *u.Balance < -MaxAmount || *u.Balance > MaxAmount {
		return FieldErrorf(EINVALID, "balance", "balance is out of range")
	}
	cur, err := NormalizeCurrency(u.Currency)
	if err != nil {
		return err
	}
	u.Currency = cur
	return nil
}

// Idempotency identifies a retried write: the Idempotency-Key a caller sent, who sent it,
// and a fingerprint of the request. The same caller and key with the same fingerprint get
// the first answer again; with another fingerprint, an ECONFLICT error.
type Idempotency struct {
	Key         string
	Caller      string
	Route       string
	Fingerprint string
}

// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
const MaxIdempotencyKeyLen = 255

// LedgerReader reads the marketplace ledger.
type LedgerReader interface {
	// Order returns an order by its id or external id; ENOTFOUND if none.
	Order(ctx context.Context, id string) (Order, error)
	// OrderByTracking returns the order with the tracking number; ENOTFOUND if none.
	OrderByTracking(ctx context.Context, number string) (Order, error)
	// Orders lists an account's orders (as buyer or seller), newest first.
	Orders(ctx context.Context, accountID string, limit int) ([]Order, error)
	// Dispute returns a dispute by its id or external id; ENOTFOUND if none.
	Dispute(ctx context.Context, id string) (Dispute, error)
	// Disputes lists an account's disputes (as buyer or seller), newest first.
	Disputes(ctx context.Context, accountID string, limit int) ([]Dispute, error)
	// Wallets returns an account's balances.
	Wallets(ctx context.Context, accountID string) ([]Wallet, error)
}

// LedgerWriter records what the marketplace reports. Each write takes an optional
// Idempotency (nil: none); a replayed write returns the first answer and true.
type LedgerWriter interface {
	// CreateOrder records an order. ENOTFOUND for an unknown buyer or seller, EINVALID for
	// an account of the wrong role, ECONFLICT for a tracking number or external id in use.
	CreateOrder(ctx context.Context, n NewOrder, idem *Idempotency) (Order, bool, error)
	// UpdateOrder applies a patch. ENOTFOUND, ECONFLICT for a transition the order's
	// status does not allow or a tracking number in use.
	UpdateOrder(ctx context.Context, id string, p OrderPatch, idem *Idempotency) (Order, bool, error)
	// CreateDispute opens a dispute on an order. ENOTFOUND for an unknown order,
	// ECONFLICT when the order already has an open dispute.
	CreateDispute(ctx context.Context, n NewDispute, idem *Idempotency) (Dispute, bool, error)
	// UpdateDispute resolves a dispute. ENOTFOUND, ECONFLICT if it is resolved already.
	UpdateDispute(ctx context.Context, id string, p DisputePatch, idem *Idempotency) (Dispute, bool, error)
	// SetWallet sets an account's balance in a currency. ENOTFOUND for an unknown account.
	SetWallet(ctx context.Context, accountID string, u WalletUpdate, idem *Idempotency) (Wallet, bool, error)
}

// NormalizeCurrency returns the ISO 4217 code in capitals, or an EINVALID error naming the
// field currency.
func NormalizeCurrency(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if len(c) != 3 || !strings.Contains(iso4217, " "+c+" ") {
		return "", FieldErrorf(EINVALID, "currency", "currency must be an ISO 4217 code such as EUR or USD, not %q", s)
	}
	return c, nil
}

// iso4217 holds the active ISO 4217 currency codes, space-separated.
const iso4217 = " AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD" +
	" CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF" +
	" GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP" +
	" LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB" +
	" PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL" +
	" THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG "
