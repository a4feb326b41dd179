package rules

import (
	"cmp"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"standing"
)

// The built-in event types. Any other non-empty type is a custom event: it counts in
// events_total and its IP, device and country count like any other event's.
const (
	EventSignup            = "signup"
	EventLoginSucceeded    = "login_succeeded"
	EventLoginFailed       = "login_failed"
	EventProfileChanged    = "profile_changed"
	EventPaymentDeclined   = "payment_declined"
	EventPaymentSucceeded  = "payment_succeeded"
	EventOrderPlaced       = "order_placed"
	EventOrderCancelled    = "order_cancelled"
	EventShipmentLate      = "shipment_late"
	EventDisputeOpened     = "dispute_opened"
	EventComplaintReceived = "complaint_received"
	EventViolationReported = "violation_reported"
)

// Event is one fact about an account, as the marketplace reports it. IP is the zero Addr
// and Country "" and ASN 0 when unknown; Country and ASN come from IP intelligence.
type Event struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	AccountID  string         `json:"account_id"`
	Time       time.Time      `json:"time"`
	IP         netip.Addr     `json:"ip,omitzero"`
	DeviceID   string         `json:"device_id,omitempty"`
	Country    string         `json:"country,omitempty"`
	ASN        uint           `json:"asn,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// MaxRemembered is how many distinct IPs, devices, countries, network observations,
// timestamps per counted event type and event ids a FeatureState keeps. When a list is full
// the oldest entry goes, so a count never reads more than MaxRemembered.
const MaxRemembered = 64

// The windows the features count over.
const (
	window1h  = time.Hour
	window24h = 24 * time.Hour
	window30d = 30 * 24 * time.Hour
	window90d = 90 * 24 * time.Hour
)

// FeatureState is what Standing remembers about one account's recent behaviour, folded in
// one event at a time so features never need a scan of the account's history. It is small
// and bounded (every list holds at most MaxRemembered entries: a few hundred bytes of JSON
// for a typical account, under 20 KB when every list is full) and marshals to JSON, so a
// store keeps it as one column per account.
//
// IPs, device ids and event ids are kept as 64-bit hashes: that bounds the size, but the
// state still describes a person's behaviour and must be erased with the account.
//
// The zero FeatureState is an account with no events. A FeatureState is not safe for
// concurrent use: the store serialises updates of one account.
type FeatureState struct {
	total     int64       // events applied
	newest    int64       // latest event time seen, Unix ms
	ips       []seenHash  // distinct IP hashes (hashOf), by last sighting
	devices   []seenHash  // distinct device hashes (hashOf), by last sighting
	countries []seenValue // distinct countries, by last sighting
	net       []netPoint  // events that carried an IP, country or ASN, by time
	profile   []int64     // profile_changed times, Unix ms, ascending
	declines  []int64     // payment_declined times
	orders    []int64     // order_placed times
	complaint []int64     // complaint_received times
	loginFail []int64     // login_failed times
	ids       []uint64    // hashes of the most recent event ids, oldest first
	cur       current     // what the last applied event changed
}

// seenValue is one distinct value (a country; a hash's text in JSON) and when it was
// last seen.
type seenValue struct {
	V    string `json:"v"`
	Last int64  `json:"t"`
}

// seenHash is one distinct hash and when it was last seen. Hashes are numbers in memory,
// where every event compares them, and their text (appendHashText) in JSON.
type seenHash struct {
	V    uint64
	Last int64
}

// The seen lists' entries: the lists are generic over them (see, hasSeen, countSeenSince).
func (x seenValue) last() int64           { return x.Last }
func (x seenHash) last() int64            { return x.Last }
func (x seenValue) same(y seenValue) bool { return x.V == y.V }
func (x seenHash) same(y seenHash) bool   { return x.V == y.V }

type sighting[T any] interface {
	seenValue | seenHash
	last() int64
	same(T) bool
}

// netPoint is the network side of one event. IP is the hash of its address (hashOf), 0
// for none. Hashes are numbers in memory, where the features compare them with every
// event, and 16 hex digits in JSON (hashText).
type netPoint struct {
	At      int64
	IP      uint64
	Country string
	ASN     uint
}

// netWire is a netPoint in JSON.
type netWire struct {
	At      int64  `json:"t"`
	IP      string `json:"ip,omitempty"`
	Country string `json:"c,omitempty"`
	ASN     uint   `json:"asn,omitempty"`
}

// current holds the flags of the most recently applied event.
type current struct {
	NewIP          bool `json:"new_ip,omitempty"`
	NewDevice      bool `json:"new_device,omitempty"`
	CountryChanged bool `json:"country_changed,omitempty"`
	ASNChanged     bool `json:"asn_changed,omitempty"`
}

// featureWire is the JSON form of a FeatureState. V is the format version.
type featureWire struct {
	V         int         `json:"v"`
	Total     int64       `json:"total,omitempty"`
	Newest    int64       `json:"newest,omitempty"`
	IPs       []seenValue `json:"ips,omitempty"`
	Devices   []seenValue `json:"devices,omitempty"`
	Countries []seenValue `json:"countries,omitempty"`
	Net       []netWire   `json:"net,omitempty"`
	Profile   []int64     `json:"profile,omitempty"`
	Declines  []int64     `json:"declines,omitempty"`
	Orders    []int64     `json:"orders,omitempty"`
	Complaint []int64     `json:"complaints,omitempty"`
	LoginFail []int64     `json:"login_failures,omitempty"`
	IDs       []string    `json:"ids,omitempty"`
	Cur       current     `json:"cur"`
}

const featureFormat = 1

// MarshalJSON writes the state as one JSON object.
//
// The store writes the state of an account with every event, so it is written by hand
// rather than by reflection (about ten times faster); the bytes are those encoding/json
// writes for the wire struct, and a test holds them to it.
func (s FeatureState) MarshalJSON() ([]byte, error) {
	return s.AppendJSON(make([]byte, 0, 256)), nil
}

// AppendJSON appends the state's JSON to b.
func (s *FeatureState) AppendJSON(b []byte) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, featureFormat, 10)
	if s.total != 0 {
		b = strconv.AppendInt(append(b, `,"total":`...), s.total, 10)
	}
	if s.newest != 0 {
		b = strconv.AppendInt(append(b, `,"newest":`...), s.newest, 10)
	}
	seen := func(b []byte, x seenValue) []byte {
		b = appendJSONString(append(b, `{"v":`...), x.V)
		return append(strconv.AppendInt(append(b, `,"t":`...), x.Last, 10), '}')
	}
	hash := func(b []byte, x seenHash) []byte {
		b = append(appendHashText(append(b, `{"v":"`...), x.V), '"')
		return append(strconv.AppendInt(append(b, `,"t":`...), x.Last, 10), '}')
	}
	millis := func(b []byte, t int64) []byte { return strconv.AppendInt(b, t, 10) }
	b = appendList(b, "ips", s.ips, hash)
	b = appendList(b, "devices", s.devices, hash)
	b = appendList(b, "countries", s.countries, seen)
	point := func(b []byte, p netPoint) []byte {
		b = strconv.AppendInt(append(b, `{"t":`...), p.At, 10)
		if p.IP != 0 {
			b = append(appendHashText(append(b, `,"ip":"`...), p.IP), '"')
		}
		if p.Country != "" {
			b = appendJSONString(append(b, `,"c":`...), p.Country)
		}
		if p.ASN != 0 {
			b = strconv.AppendUint(append(b, `,"asn":`...), uint64(p.ASN), 10)
		}
		return append(b, '}')
	}
	b = appendList(b, "net", s.net, point)
	b = appendList(b, "profile", s.profile, millis)
	b = appendList(b, "declines", s.declines, millis)
	b = appendList(b, "orders", s.orders, millis)
	b = appendList(b, "complaints", s.complaint, millis)
	b = appendList(b, "login_failures", s.loginFail, millis)
	b = appendList(b, "ids", s.ids, func(b []byte, id uint64) []byte { return append(appendHashText(append(b, '"'), id), '"') })
	b = append(b, `,"cur":{`...)
	first := true
	for _, f := range []struct {
		name string
		on   bool
	}{{"new_ip", s.cur.NewIP}, {"new_device", s.cur.NewDevice}, {"country_changed", s.cur.CountryChanged}, {"asn_changed", s.cur.ASNChanged}} {
		if !f.on {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(append(append(b, '"'), f.name...), `":true`...)
	}
	return append(b, "}}"...)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json escapes it.
func appendJSONString(b []byte, s string) []byte {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			plain = false
		}
	}
	if plain {
		return append(append(append(b, '"'), s...), '"')
	}
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// appendList appends `,"name":[…]` with each element of l written by item; nothing for
// an empty l.
func appendList[T any](b []byte, name string, l []T, item func([]byte, T) []byte) []byte {
	if len(l) == 0 {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":[`...)
	for i, x := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = item(b, x)
	}
	return append(b, ']')
}

// UnmarshalJSON reads a state written by MarshalJSON. A state from a newer format is
// refused; lists longer than MaxRemembered are cut to their newest entries and put back in
// order, so a damaged row cannot grow without bound.
//
// States as AppendJSON writes them are read by a small hand-written parser (the store
// reads one per event on PostgreSQL, and on SQLite for each account not in memory);
// anything else falls back to encoding/json.
func (s *FeatureState) UnmarshalJSON(b []byte) error {
	var w featureWire
	if !w.parse(b) {
		w = featureWire{}
		if err := json.Unmarshal(b, &w); err != nil {
			return standing.Errorf(standing.EINVALID, "feature state is not valid JSON: %v", err)
		}
	}
	if w.V > featureFormat {
		return standing.Errorf(standing.EINVALID, "feature state format %d is newer than this build reads (%d)", w.V, featureFormat)
	}
	bySeen := func(a, b seenValue) int { return cmp.Compare(a.Last, b.Last) }
	for _, l := range []*[]seenValue{&w.IPs, &w.Devices, &w.Countries} {
		slices.SortStableFunc(*l, bySeen)
		*l = keepNewest(*l)
	}
	slices.SortStableFunc(w.Net, func(a, b netWire) int { return cmp.Compare(a.At, b.At) })
	w.Net = keepNewest(w.Net)
	var net []netPoint
	if w.Net != nil {
		net = make([]netPoint, len(w.Net))
		for i, p := range w.Net {
			net[i] = netPoint{At: p.At, Country: p.Country, ASN: p.ASN}
			if p.IP != "" {
				net[i].IP = hashFromText(p.IP)
			}
		}
	}
	hashes := func(l []seenValue) []seenHash {
		if l == nil {
			return nil
		}
		out := make([]seenHash, len(l))
		for i, x := range l {
			out[i] = seenHash{V: hashFromText(x.V), Last: x.Last}
		}
		return out
	}
	var ids []uint64
	if w.IDs != nil {
		ids = make([]uint64, len(w.IDs))
		for i, id := range w.IDs {
			ids[i] = hashFromText(id)
		}
	}
	for _, l := range []*[]int64{&w.Profile, &w.Declines, &w.Orders, &w.Complaint, &w.LoginFail} {
		slices.Sort(*l)
		*l = keepNewest(*l)
	}
	w.IDs = keepNewest(w.IDs)
	*s = FeatureState{
		total: w.Total, newest: w.Newest, ips: hashes(w.IPs), devices: hashes(w.Devices), countries: w.Countries,
		net: net, profile: w.Profile, declines: w.Declines, orders: w.Orders,
		complaint: w.Complaint, loginFail: w.LoginFail, ids: ids, cur: w.Cur,
	}
	return nil
}

// keepNewest cuts an oldest-first list to its last MaxRemembered entries.
func keepNewest[T any](l []T) []T {
	if len(l) > MaxRemembered {
		return slices.Clone(l[len(l)-MaxRemembered:])
	}
	return l
}

// hashOf is the 64-bit FNV-1a hash of s.
func hashOf(s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// hashOfBytes is hashOf for text in bytes.
func hashOfBytes(b []byte) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, c := range b {
		h ^= uint64(c)
		h *= prime
	}
	return h
}

// appendHashText appends h as 16 lower-case hex digits, the text form of a hash.
func appendHashText(b []byte, h uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[h>>uint(shift)&15])
	}
	return b
}

// hashFromText reads a hash written by appendHashText. Text of another form, which no
// version wrote, is hashed itself, so it still compares equal to itself.
func hashFromText(s string) uint64 {
	if len(s) == 16 {
		if h, err := strconv.ParseUint(s, 16, 64); err == nil {
			return h
		}
	}
	return hashOf(s)
}

// Seen reports whether an event with this id was applied recently (among the last
// MaxRemembered ids). An empty id is never seen.
func (s *FeatureState) Seen(id string) bool {
	return id != "" && slices.Contains(s.ids, hashOf(id))
}

// Clone returns a deep copy of the state: Apply on one does not change the other.
func (s *FeatureState) Clone() FeatureState {
	c := *s
	c.ips, c.devices, c.countries = slices.Clone(s.ips), slices.Clone(s.devices), slices.Clone(s.countries)
	c.net = slices.Clone(s.net)
	c.profile, c.declines, c.orders = slices.Clone(s.profile), slices.Clone(s.declines), slices.Clone(s.orders)
	c.complaint, c.loginFail, c.ids = slices.Clone(s.complaint), slices.Clone(s.loginFail), slices.Clone(s.ids)
	return c
}

// KnowsDevice reports whether the device id is among the devices the state remembers, so
// a caller can skip work it did when the device was first seen.
func (s *FeatureState) KnowsDevice(id string) bool {
	return id != "" && hasSeen(s.devices, seenHash{V: hashOf(id)})
}

// Apply folds one event into the state.
//
// Duplicates: an event whose id is among the last MaxRemembered ids applied is ignored, so a
// retried delivery does not count twice. That ring is a safety net; the caller still keeps
// its own record of event ids (POST /v1/events answers a repeated id with its first result)
// because an id older than the ring would count again. Events without an id are always
// applied.
//
// Order: events may arrive out of time order. Each is placed at its own time: counts go by
// event time, and country_changed and asn_changed compare with the latest earlier event by
// time. new_ip and new_device compare with everything applied before, whatever its time.
//
// Events older than the longest window (90 days) before the newest event seen still count
// in events_total and in the distinct-value memory but not in the windowed counts.
func (s *FeatureState) Apply(e Event) {
	if e.ID != "" {
		h := hashOf(e.ID)
		if slices.Contains(s.ids, h) {
			return
		}
		s.ids = append(s.ids, h)
		if len(s.ids) > MaxRemembered {
			s.ids = slices.Delete(s.ids, 0, len(s.ids)-MaxRemembered)
		}
	}
	at := e.Time.UnixMilli()
	s.total++
	if at > s.newest {
		s.newest = at
	}
	s.cur = current{}

	var ipHash uint64
	if e.IP.IsValid() {
		var buf [64]byte
		ipHash = hashOfBytes(e.IP.Unmap().AppendTo(buf[:0]))
		s.cur.NewIP = len(s.ips) > 0 && !hasSeen(s.ips, seenHash{V: ipHash})
		s.ips = see(s.ips, seenHash{V: ipHash, Last: at})
	}
	if e.DeviceID != "" {
		h := hashOf(e.DeviceID)
		s.cur.NewDevice = len(s.devices) > 0 && !hasSeen(s.devices, seenHash{V: h})
		s.devices = see(s.devices, seenHash{V: h, Last: at})
	}
	country := strings.ToUpper(strings.TrimSpace(e.Country))
	if country != "" {
		s.countries = see(s.countries, seenValue{V: country, Last: at})
	}
	if e.IP.IsValid() || country != "" || e.ASN != 0 {
		p := netPoint{At: at, IP: ipHash, Country: country, ASN: e.ASN}
		// Insert after every point at or before this time, so equal times keep arrival order.
		i, _ := slices.BinarySearchFunc(s.net, at+1, func(q netPoint, t int64) int { return cmp.Compare(q.At, t) })
		for j := i - 1; j >= 0 && country != ""; j-- {
			if s.net[j].Country != "" {
				s.cur.CountryChanged = s.net[j].Country != country
				break
			}
		}
		for j := i - 1; j >= 0 && e.ASN != 0; j-- {
			if s.net[j].ASN != 0 {
				s.cur.ASNChanged = s.net[j].ASN != e.ASN
				break
			}
		}
		s.net = slices.Insert(s.net, i, p)
		if len(s.net) > MaxRemembered {
			s.net = slices.Delete(s.net, 0, len(s.net)-MaxRemembered)
		}
	}

	switch e.Type {
	case EventProfileChanged:
		s.profile = addTime(s.profile, at, s.newest, window30d)
	case EventPaymentDeclined:
		s.declines = addTime(s.declines, at, s.newest, window24h)
	case EventOrderPlaced:
		s.orders = addTime(s.orders, at, s.newest, window24h)
	case EventComplaintReceived:
		s.complaint = addTime(s.complaint, at, s.newest, window90d)
	case EventLoginFailed:
		s.loginFail = addTime(s.loginFail, at, s.newest, window1h)
	}
}

// hasSeen reports whether l holds the value of v (its time aside).
func hasSeen[T sighting[T]](l []T, v T) bool {
	for _, x := range l {
		if x.same(v) {
			return true
		}
	}
	return false
}

// see records the sighting v in l, which stays ordered by last sighting, oldest first, and
// at most MaxRemembered long.
func see[T sighting[T]](l []T, v T) []T {
	at := v.last()
	for i, x := range l {
		if x.same(v) {
			if x.last() >= at {
				return l
			}
			l = slices.Delete(l, i, i+1)
			break
		}
	}
	i, _ := slices.BinarySearchFunc(l, at+1, func(x T, t int64) int { return cmp.Compare(x.last(), t) })
	l = slices.Insert(l, i, v)
	if len(l) > MaxRemembered {
		l = slices.Delete(l, 0, len(l)-MaxRemembered)
	}
	return l
}

// addTime inserts at into the ascending list l, drops what is older than keep before newest,
// and keeps at most MaxRemembered entries.
func addTime(l []int64, at, newest int64, keep time.Duration) []int64 {
	cutoff := newest - keep.Milliseconds()
	if at <= cutoff {
		return l
	}
	i, _ := slices.BinarySearch(l, at+1)
	l = slices.Insert(l, i, at)
	drop, _ := slices.BinarySearch(l, cutoff+1)
	if over := len(l) - drop - MaxRemembered; over > 0 {
		drop += over
	}
	return slices.Delete(l, 0, drop)
}

// countSince returns how many entries of the ascending list l are later than cutoff.
func countSince(l []int64, cutoff int64) int {
	i, _ := slices.BinarySearch(l, cutoff+1)
	return len(l) - i
}

func countSeenSince(l []seenValue, cutoff int64) int {
	n := 0
	for _, x := range l {
		if x.Last > cutoff {
			n++
		}
	}
	return n
}

// countHashesSince is countSeenSince for hashes: every event counts these, and a generic
// function would call last through a dictionary.
func countHashesSince(l []seenHash, cutoff int64) int {
	n := 0
	for _, x := range l {
		if x.Last > cutoff {
			n++
		}
	}
	return n
}

// The feature names rules read as features.<name>; Features describes each.
const (
	FeatureIPs24h              = "ips_24h"
	FeatureIPs30d              = "ips_30d"
	FeatureDevices24h          = "devices_24h"
	FeatureDevices30d          = "devices_30d"
	FeatureNewIP               = "new_ip"
	FeatureNewDevice           = "new_device"
	FeatureIPChanges24h        = "ip_changes_24h"
	FeatureCountries30d        = "countries_30d"
	FeatureCountryChanged      = "country_changed"
	FeatureASNChanged          = "asn_changed"
	FeatureProfileChanges30d   = "profile_changes_30d"
	FeatureDeclinedPayments24h = "declined_payments_24h"
	FeatureOrders1h            = "orders_1h"
	FeatureOrders24h           = "orders_24h"
	FeatureComplaints90d       = "complaints_90d"
	FeatureLoginFailures1h     = "login_failures_1h"
	FeatureEventsTotal         = "events_total"
	FeatureAccountAgeDays      = "account_age_days"
	FeatureActiveOrders        = "active_orders"
	FeatureOpenDisputes        = "open_disputes"
	FeatureDisputeRatio        = "dispute_ratio"
	FeatureLinkedAccounts      = "linked_accounts"
	FeatureLinkedRestricted    = "linked_restricted"
	FeatureIPAnonymous         = "ip_anonymous"
	FeatureIPVPN               = "ip_vpn"
	FeatureIPProxy             = "ip_proxy"
	FeatureIPResidentialProxy  = "ip_residential_proxy"
	FeatureIPTor               = "ip_tor"
	FeatureIPHosting           = "ip_hosting"
	FeatureRecipientFlagged    = "recipient_flagged"
)

const (
	featureKindInt    = "int"
	featureKindBool   = "bool"
	featureKindDouble = "double"

	featureSourceEvents = "events"
	featureSourceCaller = "caller"

	windowDescription24h        = "in the 24 hours before now"
	windowDescription30d        = "in the 30 days before now"
	windowDescriptionCurrentEvt = "of the most recently applied event"
)

// FeatureInfo describes one feature rules can read as features.<Name>.
type FeatureInfo struct {
	Name string `json:"name"`
	// Type is the CEL type of the value: int, bool or double.
	Type string `json:"type"`
	// Source is "events" for features FeatureState.Snapshot computes and "caller" for the
	// ones Facts supplies.
	Source      string `json:"source"`
	Description string `json:"description"`
}

// The features' places in a FeatureVector, in catalog order.
const (
	ixIPs24h = iota
	ixIPs30d
	ixDevices24h
	ixDevices30d
	ixNewIP
	ixNewDevice
	ixIPChanges24h
	ixCountries30d
	ixCountryChanged
	ixASNChanged
	ixProfileChanges30d
	ixDeclinedPayments24h
	ixOrders1h
	ixOrders24h
	ixComplaints90d
	ixLoginFailures1h
	ixEventsTotal
	ixAccountAgeDays
	ixActiveOrders
	ixOpenDisputes
	ixDisputeRatio
	ixLinkedAccounts
	ixLinkedRestricted
	ixIPAnonymous
	ixIPVPN
	ixIPProxy
	ixIPResidentialProxy
	ixIPTor
	ixIPHosting
	ixRecipientFlagged
	numFeatures
)

// featureCatalog lists every feature, in the order the rule editor shows them.
var featureCatalog = [numFeatures]FeatureInfo{
	ixIPs24h:              {FeatureIPs24h, featureKindInt, featureSourceEvents, "distinct IP addresses seen " + windowDescription24h},
	ixIPs30d:              {FeatureIPs30d, featureKindInt, featureSourceEvents, "distinct IP addresses seen " + windowDescription30d},
	ixDevices24h:          {FeatureDevices24h, featureKindInt, featureSourceEvents, "distinct device ids seen " + windowDescription24h},
	ixDevices30d:          {FeatureDevices30d, featureKindInt, featureSourceEvents, "distinct device ids seen " + windowDescription30d},
	ixNewIP:               {FeatureNewIP, featureKindBool, featureSourceEvents, "the IP address of the most recently applied event was never seen on this account before; false for the account's first event with an IP"},
	ixNewDevice:           {FeatureNewDevice, featureKindBool, featureSourceEvents, "the device id of the most recently applied event was never seen on this account before; false for the account's first event with a device id"},
	ixIPChanges24h:        {FeatureIPChanges24h, featureKindInt, featureSourceEvents, "events " + windowDescription24h + " whose IP address differs from the IP of the event before them (by time)"},
	ixCountries30d:        {FeatureCountries30d, featureKindInt, featureSourceEvents, "distinct IP countries seen " + windowDescription30d},
	ixCountryChanged:      {FeatureCountryChanged, featureKindBool, featureSourceEvents, "the IP country " + windowDescriptionCurrentEvt + " differs from the latest earlier known country"},
	ixASNChanged:          {FeatureASNChanged, featureKindBool, featureSourceEvents, "the network (ASN) " + windowDescriptionCurrentEvt + " differs from the latest earlier known ASN"},
	ixProfileChanges30d:   {FeatureProfileChanges30d, featureKindInt, featureSourceEvents, "profile_changed events " + windowDescription30d},
	ixDeclinedPayments24h: {FeatureDeclinedPayments24h, featureKindInt, featureSourceEvents, "payment_declined events " + windowDescription24h},
	ixOrders1h:            {FeatureOrders1h, featureKindInt, featureSourceEvents, "order_placed events in the hour before now"},
	ixOrders24h:           {FeatureOrders24h, featureKindInt, featureSourceEvents, "order_placed events " + windowDescription24h},
	ixComplaints90d:       {FeatureComplaints90d, featureKindInt, featureSourceEvents, "complaint_received events in the 90 days before now"},
	ixLoginFailures1h:     {FeatureLoginFailures1h, featureKindInt, featureSourceEvents, "login_failed events in the hour before now"},
	ixEventsTotal:         {FeatureEventsTotal, featureKindInt, featureSourceEvents, "every event ever applied to the account"},
	ixAccountAgeDays:      {FeatureAccountAgeDays, featureKindDouble, featureSourceCaller, "days since the account was created, with fractions"},
	ixActiveOrders:        {FeatureActiveOrders, featureKindInt, featureSourceCaller, "orders in pending_payment, paid or shipped"},
	ixOpenDisputes:        {FeatureOpenDisputes, featureKindInt, featureSourceCaller, "disputes the account has open"},
	ixDisputeRatio:        {FeatureDisputeRatio, featureKindDouble, featureSourceCaller, "open_disputes / active_orders, 0 when there are no active orders"},
	ixLinkedAccounts:      {FeatureLinkedAccounts, featureKindInt, featureSourceCaller, "other accounts that share strong identity details with this one"},
	ixLinkedRestricted:    {FeatureLinkedRestricted, featureKindInt, featureSourceCaller, "linked accounts that are restricted or closed for fraud"},
	ixIPAnonymous:         {FeatureIPAnonymous, featureKindBool, featureSourceCaller, "the event's IP is any kind of anonymizer (VPN, proxy, residential proxy, Tor exit or hosting)"},
	ixIPVPN:               {FeatureIPVPN, featureKindBool, featureSourceCaller, "the event's IP is a known VPN exit"},
	ixIPProxy:             {FeatureIPProxy, featureKindBool, featureSourceCaller, "the event's IP is a public proxy"},
	ixIPResidentialProxy:  {FeatureIPResidentialProxy, featureKindBool, featureSourceCaller, "the event's IP is a residential proxy"},
	ixIPTor:               {FeatureIPTor, featureKindBool, featureSourceCaller, "the event's IP is a Tor exit node"},
	ixIPHosting:           {FeatureIPHosting, featureKindBool, featureSourceCaller, "the event's IP belongs to a hosting or cloud provider"},
	ixRecipientFlagged:    {FeatureRecipientFlagged, featureKindBool, featureSourceCaller, "the recipient name of the event's order is on the operator's watch list"},
}

// Features describes every feature rules can read, those Snapshot computes and those Facts
// supplies.
func Features() []FeatureInfo { return slices.Clone(featureCatalog[:]) }

// isFeature reports whether name is a documented feature.
func isFeature(name string) bool {
	_, ok := featureDefaults[name]
	return ok
}

// featureDefaults holds the zero value of every documented feature.
var featureDefaults = func() map[string]any {
	m := make(map[string]any, len(featureCatalog))
	for _, f := range featureCatalog {
		switch f.Type {
		case featureKindInt:
			m[f.Name] = 0
		case featureKindBool:
			m[f.Name] = false
		case featureKindDouble:
			m[f.Name] = 0.0
		}
	}
	return m
}()

// DefaultFeatures returns every documented feature at its zero value: 0, 0.0 or false.
func DefaultFeatures() map[string]any { return clone(featureDefaults) }

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Snapshot returns the event-derived features at now (ints and bools; see Features for
// their meaning). A windowed count covers events later than now minus the window, and
// includes events stamped after now, so a small clock skew between the marketplace and
// Standing does not hide the event being evaluated. new_ip, new_device, country_changed and
// asn_changed describe the most recently applied event. Counts never exceed MaxRemembered.
func (s *FeatureState) Snapshot(now time.Time) map[string]any {
	var v FeatureVector
	s.setIn(&v, now)
	return v.mapOf(featureSourceEvents, make(map[string]any, numFeatures))
}

// setIn sets Snapshot's features in v.
func (s *FeatureState) setIn(v *FeatureVector, now time.Time) {
	n := now.UnixMilli()
	since := func(d time.Duration) int64 { return n - d.Milliseconds() }
	ipChanges := 0
	prev := uint64(0)
	for _, p := range s.net {
		if p.IP == 0 {
			continue
		}
		if prev != 0 && p.IP != prev && p.At > since(window24h) {
			ipChanges++
		}
		prev = p.IP
	}
	x := &v.v
	x[ixIPs24h] = countHashesSince(s.ips, since(window24h))
	x[ixIPs30d] = countHashesSince(s.ips, since(window30d))
	x[ixDevices24h] = countHashesSince(s.devices, since(window24h))
	x[ixDevices30d] = countHashesSince(s.devices, since(window30d))
	x[ixNewIP] = s.cur.NewIP
	x[ixNewDevice] = s.cur.NewDevice
	x[ixIPChanges24h] = ipChanges
	x[ixCountries30d] = countSeenSince(s.countries, since(window30d))
	x[ixCountryChanged] = s.cur.CountryChanged
	x[ixASNChanged] = s.cur.ASNChanged
	x[ixProfileChanges30d] = countSince(s.profile, since(window30d))
	x[ixDeclinedPayments24h] = countSince(s.declines, since(window24h))
	x[ixOrders1h] = countSince(s.orders, since(window1h))
	x[ixOrders24h] = countSince(s.orders, since(window24h))
	x[ixComplaints90d] = countSince(s.complaint, since(window90d))
	x[ixLoginFailures1h] = countSince(s.loginFail, since(window1h))
	x[ixEventsTotal] = int(s.total)
}

// IPFlags is what IP intelligence says about the IP address of the event being evaluated.
type IPFlags struct {
	VPN              bool `json:"vpn,omitempty"`               // an anonymous VPN provider
	Proxy            bool `json:"proxy,omitempty"`             // a public or open proxy
	ResidentialProxy bool `json:"residential_proxy,omitempty"` // an anonymizer on a residential network
	Tor              bool `json:"tor,omitempty"`               // a Tor exit node
	Hosting          bool `json:"hosting,omitempty"`           // a hosting provider or data centre
	// Anonymous is set by sources that only say "anonymizer" without a kind; the feature
	// ip_anonymous is true when it or any of the other flags is.
	Anonymous bool `json:"anonymous,omitempty"`
}

// Facts are the features the caller knows from outside the event stream: the account's
// age, its marketplace ledger, its identity links, IP intelligence for the current event,
// and the watch-list check of the current order's recipient.
type Facts struct {
	AccountCreatedAt time.Time
	ActiveOrders     int
	OpenDisputes     int
	LinkedAccounts   int
	LinkedRestricted int
	IP               IPFlags
	RecipientFlagged bool
}

// AddTo sets the caller-supplied features in m, as of now: account_age_days, active_orders,
// open_disputes, dispute_ratio, linked_accounts, linked_restricted, ip_anonymous, ip_vpn,
// ip_proxy, ip_residential_proxy, ip_tor, ip_hosting and recipient_flagged.
func (f Facts) AddTo(m map[string]any, now time.Time) {
	var v FeatureVector
	f.SetIn(&v, now)
	v.mapOf(featureSourceCaller, m)
}

// SetIn sets the caller-supplied features in v, as AddTo does in a map.
func (f Facts) SetIn(v *FeatureVector, now time.Time) {
	age := 0.0
	if !f.AccountCreatedAt.IsZero() && now.After(f.AccountCreatedAt) {
		age = now.Sub(f.AccountCreatedAt).Hours() / 24
	}
	ratio := 0.0
	if f.ActiveOrders > 0 {
		ratio = float64(f.OpenDisputes) / float64(f.ActiveOrders)
	}
	ip := f.IP
	x := &v.v
	x[ixAccountAgeDays] = age
	x[ixActiveOrders] = f.ActiveOrders
	x[ixOpenDisputes] = f.OpenDisputes
	x[ixDisputeRatio] = ratio
	x[ixLinkedAccounts] = f.LinkedAccounts
	x[ixLinkedRestricted] = f.LinkedRestricted
	x[ixIPAnonymous] = ip.Anonymous || ip.VPN || ip.Proxy || ip.ResidentialProxy || ip.Tor || ip.Hosting
	x[ixIPVPN] = ip.VPN
	x[ixIPProxy] = ip.Proxy
	x[ixIPResidentialProxy] = ip.ResidentialProxy
	x[ixIPTor] = ip.Tor
	x[ixIPHosting] = ip.Hosting
	x[ixRecipientFlagged] = f.RecipientFlagged
}

// FeaturesAt returns every feature at now: the state's snapshot with the facts added.
func FeaturesAt(s *FeatureState, f Facts, now time.Time) map[string]any {
	var v FeatureVector
	VectorInto(&v, s, f, now)
	return v.Map()
}

// VectorInto sets every feature at now in v: the state's snapshot and the facts. It is
// FeaturesAt for the busy path, where an evaluation takes the vector (Input.Vector).
func VectorInto(v *FeatureVector, s *FeatureState, f Facts, now time.Time) {
	s.setIn(v, now)
	f.SetIn(v, now)
}

// RecipientFlagged reports whether the recipient name is on the policy's watch list.
// Names compare case-insensitively with punctuation dropped and spaces collapsed, so
// "J. Doe" matches a list entry "j doe".
func RecipientFlagged(p *standing.Policy, name string) bool {
	n := normalizeName(name)
	if n == "" {
		return false
	}
	for _, w := range p.Risk.RecipientWatchList {
		if normalizeName(w) == n {
			return true
		}
	}
	return false
}

func normalizeName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsSpace(r) || unicode.IsPunct(r):
			space = true
		}
	}
	return b.String()
}

// parse reads the JSON AppendJSON writes into w and reports whether it could: strings
// without escapes, whole numbers, and the wire format's keys only.
func (w *featureWire) parse(b []byte) bool {
	p := wireParser{b: b}
	if !p.lit('{') {
		return false
	}
	if p.peek('}') {
		p.i++
		return p.end()
	}
	for {
		key, ok := p.str()
		if !ok || !p.lit(':') {
			return false
		}
		switch key {
		case "v":
			n, ok := p.int()
			if !ok {
				return false
			}
			w.V = int(n)
		case "total":
			if w.Total, ok = p.int(); !ok {
				return false
			}
		case "newest":
			if w.Newest, ok = p.int(); !ok {
				return false
			}
		case "ips":
			if w.IPs, ok = p.seen(); !ok {
				return false
			}
		case "devices":
			if w.Devices, ok = p.seen(); !ok {
				return false
			}
		case "countries":
			if w.Countries, ok = p.seen(); !ok {
				return false
			}
		case "net":
			if w.Net, ok = p.net(); !ok {
				return false
			}
		case "profile":
			if w.Profile, ok = p.ints(); !ok {
				return false
			}
		case "declines":
			if w.Declines, ok = p.ints(); !ok {
				return false
			}
		case "orders":
			if w.Orders, ok = p.ints(); !ok {
				return false
			}
		case "complaints":
			if w.Complaint, ok = p.ints(); !ok {
				return false
			}
		case "login_failures":
			if w.LoginFail, ok = p.ints(); !ok {
				return false
			}
		case "ids":
			if w.IDs, ok = p.strs(); !ok {
				return false
			}
		case "cur":
			if w.Cur, ok = p.cur(); !ok {
				return false
			}
		default:
			return false
		}
		if p.lit(',') {
			continue
		}
		return p.lit('}') && p.end()
	}
}

// wireParser reads the feature state's JSON; every method reports false on anything it
// does not expect, and the caller falls back to encoding/json.
type wireParser struct {
	b []byte
	i int
}

func (p *wireParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *wireParser) peek(c byte) bool {
	p.space()
	return p.i < len(p.b) && p.b[p.i] == c
}

func (p *wireParser) lit(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

func (p *wireParser) end() bool {
	p.space()
	return p.i == len(p.b)
}

func (p *wireParser) str() (string, bool) {
	if !p.lit('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

func (p *wireParser) int() (int64, bool) {
	p.space()
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	return n, err == nil
}

func (p *wireParser) boolean() (bool, bool) {
	p.space()
	switch {
	case bytesHasPrefix(p.b[p.i:], "true"):
		p.i += 4
		return true, true
	case bytesHasPrefix(p.b[p.i:], "false"):
		p.i += 5
		return false, true
	}
	return false, false
}

func bytesHasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// list reads a JSON array, calling item for each element.
func (p *wireParser) list(item func() bool) bool {
	if !p.lit('[') {
		return false
	}
	if p.lit(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		if p.lit(',') {
			continue
		}
		return p.lit(']')
	}
}

// object reads a JSON object, calling field for each key.
func (p *wireParser) object(field func(key string) bool) bool {
	if !p.lit('{') {
		return false
	}
	if p.lit('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok || !p.lit(':') || !field(key) {
			return false
		}
		if p.lit(',') {
			continue
		}
		return p.lit('}')
	}
}

func (p *wireParser) ints() ([]int64, bool) {
	out := []int64{}
	ok := p.list(func() bool {
		n, ok := p.int()
		out = append(out, n)
		return ok
	})
	return out, ok
}

func (p *wireParser) strs() ([]string, bool) {
	out := []string{}
	ok := p.list(func() bool {
		s, ok := p.str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

func (p *wireParser) seen() ([]seenValue, bool) {
	out := []seenValue{}
	ok := p.list(func() bool {
		var v seenValue
		ok := p.object(func(key string) bool {
			var ok bool
			switch key {
			case "v":
				v.V, ok = p.str()
			case "t":
				v.Last, ok = p.int()
			}
			return ok
		})
		out = append(out, v)
		return ok
	})
	return out, ok
}

func (p *wireParser) net() ([]netWire, bool) {
	out := []netWire{}
	ok := p.list(func() bool {
		var v netWire
		ok := p.object(func(key string) bool {
			var ok bool
			switch key {
			case "t":
				v.At, ok = p.int()
			case "ip":
				v.IP, ok = p.str()
			case "c":
				v.Country, ok = p.str()
			case "asn":
				var n int64
				n, ok = p.int()
				ok = ok && n >= 0
				v.ASN = uint(n)
			}
			return ok
		})
		out = append(out, v)
		return ok
	})
	return out, ok
}

func (p *wireParser) cur() (current, bool) {
	var c current
	ok := p.object(func(key string) bool {
		v, ok := p.boolean()
		switch key {
		case "new_ip":
			c.NewIP = v
		case "new_device":
			c.NewDevice = v
		case "country_changed":
			c.CountryChanged = v
		case "asn_changed":
			c.ASNChanged = v
		default:
			return false
		}
		return ok
	})
	return c, ok
}
