package standing

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy holds every number and list an operator may change: deadlines, limits, thresholds
// and the reason catalog. DefaultPolicy returns the built-in values; a policy file overrides
// any of them. A Policy is immutable once in use: reloading swaps in a new one.
type Policy struct {
	// VerificationDeadline is how long after sign-up an email may stay unconfirmed.
	VerificationDeadline Duration `yaml:"verification_deadline" json:"verification_deadline"`
	// ErasureGrace is how long after a deletion request the erasure runs.
	ErasureGrace Duration `yaml:"erasure_grace" json:"erasure_grace"`

	Appeals        AppealPolicy         `yaml:"appeals" json:"appeals"`
	Deletion       DeletionPolicy       `yaml:"deletion" json:"deletion"`
	Evidence       EvidencePolicy       `yaml:"evidence" json:"evidence"`
	Risk           RiskPolicy           `yaml:"risk" json:"risk"`
	Seller         SellerPolicy         `yaml:"seller" json:"seller"`
	Performance    PerformancePolicy    `yaml:"performance" json:"performance"`
	EU             EUPolicy             `yaml:"eu" json:"eu"`
	Reregistration ReregistrationPolicy `yaml:"reregistration" json:"reregistration"`
	Retention      RetentionPolicy      `yaml:"retention" json:"retention"`
	SignIn         SignInPolicy         `yaml:"sign_in" json:"sign_in"`

	// Reasons is the reason catalog.
	Reasons []Reason `yaml:"reasons" json:"reasons"`

	byCode map[string]*Reason
}

// AppealPolicy holds the appeal window and the review deadlines.
//
// Window is how long after a decision (a restriction's start, an order's closure) it may be
// appealed; it can only lengthen the time the law gives. EU DSA Art. 20(1) keeps appeals
// open for at least six calendar months after the decision, which 180 days falls short of
// for most start dates, so Policy.AppealClosesAt — the one place that says when the time to
// appeal ends — takes the later of the two.
type AppealPolicy struct {
	Window       Duration `yaml:"window" json:"window"`               // after the decision; see AppealClosesAt
	ReviewTarget Duration `yaml:"review_target" json:"review_target"` // promised to the person
	Breach       Duration `yaml:"breach" json:"breach"`               // after this the review is late
	EscalateAt   float64  `yaml:"escalate_at" json:"escalate_at"`     // fraction of Breach
}

// DeletionPolicy holds the preconditions and confirmation of account deletion.
type DeletionPolicy struct {
	Phrase             string   `yaml:"phrase" json:"phrase"`
	Reasons            []string `yaml:"reasons" json:"reasons"`
	AllowForfeit       bool     `yaml:"allow_forfeit" json:"allow_forfeit"`
	BlockingOrderState []string `yaml:"blocking_order_states" json:"blocking_order_states"`
	ConfirmationWait   Duration `yaml:"marketplace_confirmation_wait" json:"marketplace_confirmation_wait"`
	// WalletURL is the marketplace's page where a person withdraws a balance or settles
	// a debt: the deletion page links to it from the wallet preconditions. Empty: the
	// wallet precondition points at the forfeit tick on the page itself.
	WalletURL string `yaml:"wallet_url,omitempty" json:"wallet_url,omitempty"`
}

// EvidencePolicy holds the size limits of appeal evidence.
type EvidencePolicy struct {
	PhotoMax ByteSize `yaml:"photo_max" json:"photo_max"`
	PDFMax   ByteSize `yaml:"pdf_max" json:"pdf_max"`
	VideoMax ByteSize `yaml:"video_max" json:"video_max"`
	LinkTTL  Duration `yaml:"link_ttl" json:"link_ttl"`
}

// RiskPolicy holds the thresholds of the default rule pack and the IP intelligence sources.
type RiskPolicy struct {
	DisputeAbuseRatio     float64  `yaml:"dispute_abuse_ratio" json:"dispute_abuse_ratio"`
	DisputeAbuseMinActive int      `yaml:"dispute_abuse_min_active" json:"dispute_abuse_min_active"`
	IPChurn24h            int      `yaml:"ip_churn_24h" json:"ip_churn_24h"`
	DeviceChurn24h        int      `yaml:"device_churn_24h" json:"device_churn_24h"`
	ProfileChanges30d     int      `yaml:"profile_changes_30d" json:"profile_changes_30d"`
	DeclinedPayments24h   int      `yaml:"declined_payments_24h" json:"declined_payments_24h"`
	CheckoutBurst1h       int      `yaml:"checkout_burst_1h" json:"checkout_burst_1h"`
	Complaints90d         int      `yaml:"complaints_90d" json:"complaints_90d"`
	RiskReviewDuration    Duration `yaml:"risk_review_duration" json:"risk_review_duration"`
	AnonymizerDatabases   []string `yaml:"anonymizer_databases" json:"anonymizer_databases"`
	AnonymizerCIDRFiles   []string `yaml:"anonymizer_cidr_files" json:"anonymizer_cidr_files"`
	RecipientWatchList    []string `yaml:"recipient_watch_list" json:"recipient_watch_list"`
	EventRetention        Duration `yaml:"event_retention" json:"event_retention"`
}

// SellerPolicy holds the penalty-point ledgers, the violation types and fee handling.
type SellerPolicy struct {
	PointLifetime  Duration        `yaml:"point_lifetime" json:"point_lifetime"`
	FeeGrace       Duration        `yaml:"fee_grace" json:"fee_grace"`
	Ledgers        []Ledger        `yaml:"ledgers" json:"ledgers"`
	ViolationTypes []ViolationType `yaml:"violation_types" json:"violation_types"`
}

// Ledger is one separately counted kind of seller points and the sanctions its totals bring.
type Ledger struct {
	Name  string `yaml:"name" json:"name"`
	Title string `yaml:"title" json:"title"`
	// Every, when set, brings EverySanction each time the total crosses a multiple of it.
	Every         int       `yaml:"every,omitempty" json:"every,omitempty"`
	EverySanction *Sanction `yaml:"every_sanction,omitempty" json:"every_sanction,omitempty"`
	// Thresholds bring their sanction when the total reaches their points.
	Thresholds []Threshold `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`
	// DailyCap limits the points counted per calendar day (0 = no cap).
	DailyCap int `yaml:"daily_cap,omitempty" json:"daily_cap,omitempty"`
	// StrikeWindow makes the ledger count strikes: cases within the window are one strike;
	// the n-th strike brings Strikes[n-1].
	StrikeWindow Duration   `yaml:"strike_window,omitempty" json:"strike_window,omitempty"`
	Strikes      []Sanction `yaml:"strikes,omitempty" json:"strikes,omitempty"`
}

// Threshold is a points total and the sanction it brings.
type Threshold struct {
	Points   int      `yaml:"points" json:"points"`
	Sanction Sanction `yaml:"sanction" json:"sanction"`
}

// Sanction is what a seller's points bring: a warning, a fine, a listing limit, a store
// suspension for a duration, or closure.
type Sanction struct {
	Kind     string   `yaml:"kind" json:"kind"` // warning | fine | listing_limit | suspension | closure
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	Amount   int64    `yaml:"amount,omitempty" json:"amount,omitempty"` // fine, in minor units
	// Currency is the fine's ISO 4217 currency; empty: DefaultFineCurrency.
	Currency string `yaml:"currency,omitempty" json:"currency,omitempty"`
}

// DefaultFineCurrency is the currency of a policy's fine that names none.
const DefaultFineCurrency = "USD"

// FineCurrency returns the currency of the sanction's fine.
func (s Sanction) FineCurrency() string { return cmp.Or(s.Currency, DefaultFineCurrency) }

// ViolationType is a kind of seller violation with its points and ledger.
type ViolationType struct {
	Code   string `yaml:"code" json:"code"`
	Title  string `yaml:"title" json:"title"`
	Ledger string `yaml:"ledger" json:"ledger"`
	Points int    `yaml:"points" json:"points"`
}

// PerformancePolicy holds the seller performance standards.
type PerformancePolicy struct {
	Window           Duration `yaml:"window" json:"window"`
	OrderDefectRate  float64  `yaml:"order_defect_rate" json:"order_defect_rate"`
	LateShipmentRate float64  `yaml:"late_shipment_rate" json:"late_shipment_rate"`
	CancellationRate float64  `yaml:"cancellation_rate" json:"cancellation_rate"`
	WarningGrace     Duration `yaml:"warning_grace" json:"warning_grace"`
	BreachPoints     int      `yaml:"breach_points" json:"breach_points"`
	MinOrders        int      `yaml:"min_orders" json:"min_orders"`
}

// EUPolicy turns on the notices EU law asks for.
type EUPolicy struct {
	Enabled       bool     `yaml:"enabled" json:"enabled"`
	ClosureNotice Duration `yaml:"closure_notice" json:"closure_notice"` // P2B regulation
}

// ReregistrationPolicy says what a new sign-up may reuse of an erased account.
type ReregistrationPolicy struct {
	AllowErasedEmail bool     `yaml:"allow_erased_email" json:"allow_erased_email"`
	DenyListReasons  []string `yaml:"deny_list_reasons" json:"deny_list_reasons"`
}

// RetentionPolicy holds how long records the law requires are kept after erasure.
type RetentionPolicy struct {
	Invoices Duration `yaml:"invoices" json:"invoices"`
	Mail     Duration `yaml:"mail" json:"mail"`
}

// SignInPolicy holds sign-in throttling and password rules.
type SignInPolicy struct {
	MinPasswordLength int      `yaml:"min_password_length" json:"min_password_length"`
	MaxPasswordLength int      `yaml:"max_password_length" json:"max_password_length"`
	AccountFailures   int      `yaml:"account_failures" json:"account_failures"`
	IPFailures        int      `yaml:"ip_failures" json:"ip_failures"`
	FailureWindow     Duration `yaml:"failure_window" json:"failure_window"`
	Lockout           Duration `yaml:"lockout" json:"lockout"`
	SessionLifetime   Duration `yaml:"session_lifetime" json:"session_lifetime"`
	CodeAttempts      int      `yaml:"code_attempts" json:"code_attempts"`
	ResetLinkLifetime Duration `yaml:"reset_link_lifetime" json:"reset_link_lifetime"`
	// VerifyLinkLifetime is how long a confirmation link and code stay valid.
	VerifyLinkLifetime Duration `yaml:"verify_link_lifetime" json:"verify_link_lifetime"`
	// ResendInterval is the least time between two confirmation mails to one account.
	ResendInterval Duration `yaml:"resend_interval" json:"resend_interval"`
	// StaffSessionLifetime is how long a reviewer's console session lasts.
	StaffSessionLifetime Duration `yaml:"staff_session_lifetime" json:"staff_session_lifetime"`
}

// Reason returns the catalog entry for code.
func (p *Policy) Reason(code string) (*Reason, bool) {
	r, ok := p.byCode[code]
	return r, ok
}

// AppealClosesAt returns when the time to appeal a decision taken at decidedAt ends: the
// later of decidedAt plus Appeals.Window and six calendar months after decidedAt (EU DSA
// Art. 20(1): "for a period of at least six months following the decision"). Months are
// counted the way time.AddDate counts them, so a decision on 31 August stays open until
// 3 March (2 March in a leap year) rather than the end of February: never less than the law.
// An appeal filed at or before the returned time is in time.
func (p *Policy) AppealClosesAt(decidedAt time.Time) time.Time {
	byWindow := decidedAt.Add(p.Appeals.Window.D())
	byLaw := decidedAt.AddDate(0, 6, 0)
	if byLaw.After(byWindow) {
		return byLaw
	}
	return byWindow
}

// ReasonCodes lists the catalog's codes.
func (p *Policy) ReasonCodes() []string {
	out := make([]string, 0, len(p.Reasons))
	for _, r := range p.Reasons {
		out = append(out, r.Code)
	}
	return out
}

// builtinReasons are the codes Standing's own logic applies; a policy must keep them.
var builtinReasons = []string{
	ReasonEmailUnverified, ReasonRiskReview, ReasonPaymentVerification, ReasonFlaggedRecipient,
	ReasonDisputeAbuse, ReasonBuyerComplaints, ReasonDuplicateIdentity, ReasonFraudConfirmed,
	ReasonSelfDeleted, ReasonSellerViolation,
}

// Validate checks p and prepares its lookups. Errors name the offending setting.
func (p *Policy) Validate() error {
	pos := func(field string, d Duration) error {
		if d <= 0 {
			return FieldErrorf(EINVALID, field, "%s must be a positive duration", field)
		}
		return nil
	}
	for _, c := range []struct {
		f string
		d Duration
	}{
		{"verification_deadline", p.VerificationDeadline}, {"erasure_grace", p.ErasureGrace},
		{"appeals.window", p.Appeals.Window}, {"appeals.review_target", p.Appeals.ReviewTarget},
		{"appeals.breach", p.Appeals.Breach}, {"seller.point_lifetime", p.Seller.PointLifetime},
		{"performance.window", p.Performance.Window}, {"sign_in.session_lifetime", p.SignIn.SessionLifetime},
		{"sign_in.staff_session_lifetime", p.SignIn.StaffSessionLifetime},
		{"sign_in.lockout", p.SignIn.Lockout}, {"sign_in.failure_window", p.SignIn.FailureWindow},
		{"sign_in.verify_link_lifetime", p.SignIn.VerifyLinkLifetime}, {"sign_in.reset_link_lifetime", p.SignIn.ResetLinkLifetime},
	} {
		if err := pos(c.f, c.d); err != nil {
			return err
		}
	}
	if p.Appeals.ReviewTarget > p.Appeals.Breach {
		return FieldErrorf(EINVALID, "appeals.review_target", "the review target (%s) is after the breach time (%s)", p.Appeals.ReviewTarget, p.Appeals.Breach)
	}
	if p.Appeals.EscalateAt <= 0 || p.Appeals.EscalateAt > 1 {
		return FieldErrorf(EINVALID, "appeals.escalate_at", "escalate_at is a fraction of the breach time, above 0 and at most 1")
	}
	if p.Risk.DisputeAbuseRatio <= 0 || p.Risk.DisputeAbuseRatio > 1 {
		return FieldErrorf(EINVALID, "risk.dispute_abuse_ratio", "dispute_abuse_ratio must be above 0 and at most 1")
	}
	if p.Evidence.PhotoMax <= 0 || p.Evidence.PDFMax <= 0 || p.Evidence.VideoMax <= 0 {
		return FieldErrorf(EINVALID, "evidence", "evidence size limits must be positive")
	}
	if strings.TrimSpace(p.Deletion.Phrase) == "" {
		return FieldErrorf(EINVALID, "deletion.phrase", "the deletion phrase must not be empty")
	}
	if u := p.Deletion.WalletURL; u != "" {
		if parsed, err := url.Parse(u); err != nil || !(strings.HasPrefix(u, "/") || (parsed.Scheme == "https" || parsed.Scheme == "http") && parsed.Host != "") {
			return FieldErrorf(EINVALID, "deletion.wallet_url", "deletion.wallet_url must be an http(s) URL or a path starting with /, not %q", u)
		}
	}
	if p.SignIn.MinPasswordLength < 8 || p.SignIn.MaxPasswordLength < p.SignIn.MinPasswordLength {
		return FieldErrorf(EINVALID, "sign_in.min_password_length", "passwords need a minimum length of at least 8 and a maximum above it")
	}
	p.byCode = make(map[string]*Reason, len(p.Reasons))
	settings := strings.NewReplacer(PlaceholderVerificationDeadline, p.VerificationDeadline.Words())
	for i := range p.Reasons {
		r := &p.Reasons[i]
		field := fmt.Sprintf("reasons[%d]", i)
		if err := r.resolve(field); err != nil {
			return err
		}
		r.settings = settings
		if err := r.checkDSA(field); err != nil {
			return err
		}
		if _, dup := p.byCode[r.Code]; dup {
			return FieldErrorf(EINVALID, field+".code", "reason %q appears twice", r.Code)
		}
		p.byCode[r.Code] = r
	}
	for _, code := range builtinReasons {
		if _, ok := p.byCode[code]; !ok {
			return FieldErrorf(EINVALID, "reasons", "the catalog must keep the built-in reason %q (change its words, not its code)", code)
		}
	}
	ledgers := map[string]bool{}
	for i, l := range p.Seller.Ledgers {
		if l.Name == "" {
			return FieldErrorf(EINVALID, fmt.Sprintf("seller.ledgers[%d].name", i), "a ledger needs a name")
		}
		ledgers[l.Name] = true
		for j, t := range l.Thresholds {
			if err := t.Sanction.validate(fmt.Sprintf("seller.ledgers[%d].thresholds[%d].sanction", i, j)); err != nil {
				return err
			}
			if j > 0 && t.Points <= l.Thresholds[j-1].Points {
				return FieldErrorf(EINVALID, fmt.Sprintf("seller.ledgers[%d].thresholds[%d].points", i, j), "thresholds must rise")
			}
		}
		if l.EverySanction != nil {
			if err := l.EverySanction.validate(fmt.Sprintf("seller.ledgers[%d].every_sanction", i)); err != nil {
				return err
			}
		}
		for j, s := range l.Strikes {
			if err := s.validate(fmt.Sprintf("seller.ledgers[%d].strikes[%d]", i, j)); err != nil {
				return err
			}
		}
	}
	for i, v := range p.Seller.ViolationTypes {
		f := fmt.Sprintf("seller.violation_types[%d]", i)
		if v.Code == "" {
			return FieldErrorf(EINVALID, f+".code", "a violation type needs a code")
		}
		if !ledgers[v.Ledger] {
			return FieldErrorf(EINVALID, f+".ledger", "violation type %q names unknown ledger %q", v.Code, v.Ledger)
		}
		if v.Points < 0 {
			return FieldErrorf(EINVALID, f+".points", "points cannot be negative")
		}
	}
	return nil
}

func (s Sanction) validate(field string) error {
	if s.Currency != "" && s.Kind != "fine" {
		return FieldErrorf(EINVALID, field+".currency", "only a fine has a currency, not a %s", s.Kind)
	}
	switch s.Kind {
	case "fine":
		if s.Currency != "" {
			if c, err := NormalizeCurrency(s.Currency); err != nil || c != s.Currency {
				return FieldErrorf(EINVALID, field+".currency", "a fine's currency must be an ISO 4217 code in capitals such as EUR or USD, not %q", s.Currency)
			}
		}
	case "warning", "listing_limit", "closure":
	case "suspension":
		if s.Duration <= 0 {
			return FieldErrorf(EINVALID, field+".duration", "a suspension needs a positive duration")
		}
	default:
		return FieldErrorf(EINVALID, field+".kind", "sanction kind must be warning, fine, listing_limit, suspension or closure, not %q", s.Kind)
	}
	return nil
}

// Duration is a time.Duration written as "72h", "30m" or "7d" in policy files.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// Words writes d for people: "72 hours", "1 hour", "7 days", "30 minutes". Whole days
// above three are written in days and shorter whole hours in hours (a 72-hour deadline
// reads "72 hours", a 96-hour one "4 days"); anything else as time.Duration writes it.
func (d Duration) Words() string {
	td := time.Duration(d)
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case td <= 0:
		return td.String()
	case td%(24*time.Hour) == 0 && td > 72*time.Hour:
		return plural(int64(td/(24*time.Hour)), "day")
	case td%time.Hour == 0:
		return plural(int64(td/time.Hour), "hour")
	case td%time.Minute == 0:
		return plural(int64(td/time.Minute), "minute")
	}
	return td.String()
}

// MarshalText writes d as "7d" or "72h0m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "7d", "72h", "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration reads a duration that may use a "d" (day) suffix.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("invalid duration %q: want a number of days like 7d", s)
		}
		return Duration(days * float64(24*time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want e.g. 72h, 30m or 7d", s)
	}
	return Duration(v), nil
}

// ByteSize is a size written as "3MB" (binary megabytes) in policy files.
type ByteSize int64

var sizeUnits = []struct {
	suffix string
	n      int64
}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}}

func (b ByteSize) String() string {
	for _, u := range sizeUnits {
		if b >= ByteSize(u.n) && int64(b)%u.n == 0 {
			return strconv.FormatInt(int64(b)/u.n, 10) + " " + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + " B"
}

// MarshalText writes b as "3MB".
func (b ByteSize) MarshalText() ([]byte, error) {
	return []byte(strings.ReplaceAll(b.String(), " ", "")), nil
}

// UnmarshalText reads "3MB", "512KB", "1GB" or a plain number of bytes.
func (b *ByteSize) UnmarshalText(t []byte) error {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(string(t)), " ", ""))
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return fmt.Errorf("invalid size %q: want e.g. 3MB", string(t))
			}
			*b = ByteSize(v * float64(u.n))
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("invalid size %q: want e.g. 3MB", string(t))
	}
	*b = ByteSize(v)
	return nil
}

// HasString reports whether list holds s.
func HasString(list []string, s string) bool { return slices.Contains(list, s) }
