package standing_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"standing"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestLifecycleTransitions(t *testing.T) {
	all := []standing.Lifecycle{standing.LifecycleUnverified, standing.LifecycleActive, standing.LifecycleClosing, standing.LifecycleErased}
	legal := map[[2]standing.Lifecycle]bool{
		{standing.LifecycleUnverified, standing.LifecycleActive}:  true,
		{standing.LifecycleUnverified, standing.LifecycleClosing}: true,
		{standing.LifecycleActive, standing.LifecycleClosing}:     true,
		{standing.LifecycleClosing, standing.LifecycleActive}:     true,
		{standing.LifecycleClosing, standing.LifecycleUnverified}: true,
		{standing.LifecycleClosing, standing.LifecycleErased}:     true,
	}
	for _, from := range all {
		for _, to := range all {
			err := from.Transition(to)
			if got, want := err == nil, legal[[2]standing.Lifecycle{from, to}]; got != want {
				t.Errorf("%s -> %s: allowed = %v, want %v (%v)", from, to, got, want, err)
			}
			if err != nil && standing.ErrorCode(err) != standing.ECONFLICT {
				t.Errorf("%s -> %s: code %s, want conflict", from, to, standing.ErrorCode(err))
			}
		}
	}
}

func TestCapabilitySet(t *testing.T) {
	s, err := standing.ParseCapabilitySet([]string{"pay", "place_order"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(s.Names(), ","), "place_order,pay"; got != want {
		t.Errorf("Names = %s, want %s", got, want)
	}
	if got, want := s.Words(), "place orders and pay"; got != want {
		t.Errorf("Words = %q, want %q", got, want)
	}
	if s.Complement().Has(standing.CapPay) || !s.Complement().Has(standing.CapLogin) || s.Complement().Len() != 12 {
		t.Errorf("Complement = %v", s.Complement().Names())
	}
	if _, err := standing.ParseCapabilitySet([]string{"fly"}); standing.ErrorCode(err) != standing.EINVALID || !strings.Contains(err.Error(), "fly") {
		t.Errorf("unknown capability error = %v", err)
	}
	all, _ := standing.ParseCapabilitySet([]string{"all"})
	if all != standing.AllCapabilities || all.Len() != len(standing.CapabilityNames()) {
		t.Errorf("all = %v", all.Names())
	}
	b, _ := s.MarshalJSON()
	var back standing.CapabilitySet
	if err := back.UnmarshalJSON(b); err != nil || back != s {
		t.Errorf("JSON round trip = %v, %v", back, err)
	}
}

func TestCatalogMatchesProduct(t *testing.T) {
	p := standing.DefaultPolicy()
	caps := func(names ...string) standing.CapabilitySet {
		s, err := standing.ParseCapabilitySet(names)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		code       string
		removes    standing.CapabilitySet
		appealable bool
	}{
		{standing.ReasonEmailUnverified, caps("login", "view_orders", "open_dispute", "change_profile", "delete_account").Complement(), false},
		{standing.ReasonRiskReview, caps("place_order", "pay", "withdraw_funds", "receive_payouts"), true},
		{standing.ReasonPaymentVerification, caps("place_order", "pay"), true},
		{standing.ReasonFlaggedRecipient, 0, true},
		{standing.ReasonDisputeAbuse, caps("place_order", "open_dispute"), true},
		{standing.ReasonBuyerComplaints, caps("place_order", "message"), true},
		{standing.ReasonSelfDeleted, standing.AllCapabilities, false},
	}
	for _, c := range cases {
		r, ok := p.Reason(c.code)
		if !ok {
			t.Fatalf("catalog lacks %s", c.code)
		}
		if r.Removes != c.removes || r.Appealable != c.appealable {
			t.Errorf("%s removes %v appealable %v, want %v %v", c.code, r.Removes.Names(), r.Appealable, c.removes.Names(), c.appealable)
		}
		if r.Message == "" || r.Remedy == "" {
			t.Errorf("%s lacks words for the person", c.code)
		}
	}
	// A blocked buyer can still see orders and open disputes (article 000).
	for _, code := range []string{standing.ReasonEmailUnverified, standing.ReasonFraudConfirmed} {
		r, _ := p.Reason(code)
		if r.Removes.Has(standing.CapViewOrders) || r.Removes.Has(standing.CapOpenDispute) {
			t.Errorf("%s removes view_orders or open_dispute", code)
		}
	}
}

func TestCheckPicksMostSevere(t *testing.T) {
	end := t0.Add(24 * time.Hour)
	later := t0.Add(48 * time.Hour)
	rs := []standing.Restriction{
		{ID: "low", ReasonCode: "a", Severity: 10, Removes: standing.CapSet(standing.CapPay), State: standing.RestrictionActive, StartsAt: t0},
		{ID: "high-ends", ReasonCode: "b", Severity: 50, Removes: standing.CapSet(standing.CapPay), State: standing.RestrictionActive, StartsAt: t0, EndsAt: &end},
		{ID: "high-later", ReasonCode: "c", Severity: 50, Removes: standing.CapSet(standing.CapPay), State: standing.RestrictionActive, StartsAt: t0, EndsAt: &later},
		{ID: "high-forever", ReasonCode: "d", Severity: 50, Removes: standing.CapSet(standing.CapPlaceOrder), State: standing.RestrictionActive, StartsAt: t0},
	}
	standing.SortRestrictions(rs)
	var order []string
	for _, r := range rs {
		order = append(order, r.ID)
	}
	if got, want := strings.Join(order, ","), "high-forever,high-later,high-ends,low"; got != want {
		t.Fatalf("order = %s, want %s", got, want)
	}
	st := standing.Standing{Lifecycle: standing.LifecycleActive, Restrictions: rs}
	cases := []struct {
		at   time.Time
		c    standing.Capability
		want string
	}{
		{t0, standing.CapPay, "high-later"},
		{t0.Add(36 * time.Hour), standing.CapPay, "high-later"},
		{t0.Add(49 * time.Hour), standing.CapPay, "low"},
		{t0, standing.CapPlaceOrder, "high-forever"},
		{t0, standing.CapLogin, ""},
		{t0.Add(-time.Hour), standing.CapPay, ""}, // not started yet
	}
	for _, c := range cases {
		d := st.Check(c.c, c.at)
		if d.RestrictionID != c.want || d.Allowed != (c.want == "") {
			t.Errorf("check %s at %s = %+v, want %q", c.c, c.at, d, c.want)
		}
	}
	erased := standing.Standing{Lifecycle: standing.LifecycleErased}
	if d := erased.Check(standing.CapLogin, t0); d.Allowed || d.ReasonCode != standing.DecisionAccountErased {
		t.Errorf("erased account check = %+v", d)
	}
}

func TestResolveRestriction(t *testing.T) {
	p := standing.DefaultPolicy()
	r, err := standing.NewRestriction{ReasonCode: standing.ReasonDisputeAbuse, Duration: "7d"}.Resolve(p, "acc_1", standing.RoleBuyer, t0)
	if err != nil {
		t.Fatal(err)
	}
	if r.EndsAt == nil || !r.EndsAt.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("EndsAt = %v", r.EndsAt)
	}
	if !strings.Contains(r.Message, "until 30 Nov 2026, 10:00 UTC") || strings.Contains(r.Message, "{until}") {
		t.Errorf("message = %q", r.Message)
	}
	r, _ = standing.NewRestriction{ReasonCode: standing.ReasonRiskReview}.Resolve(p, "acc_1", standing.RoleSeller, t0)
	if !strings.Contains(r.Message, "until it is lifted") {
		t.Errorf("open-ended message = %q", r.Message)
	}
	only := standing.CapSet(standing.CapListProducts)
	r, _ = standing.NewRestriction{ReasonCode: standing.ReasonSellerViolation, Removes: &only, Message: "Listing limited {until}."}.Resolve(p, "acc_1", standing.RoleSeller, t0)
	if r.Removes != only || r.Message != "Listing limited until it is lifted." {
		t.Errorf("override = %v %q", r.Removes.Names(), r.Message)
	}
}

func TestAuditChain(t *testing.T) {
	var entries []standing.AuditEntry
	prev := ""
	for i := 1; i <= 3; i++ {
		e := standing.AuditEntry{Seq: int64(i), ID: "aud_" + string(rune('a'+i)), At: t0, AccountID: "acc_1", Actor: "test", Action: "x", Personal: "note"}
		e.SealPersonal()
		e.PrevHash = prev
		e.Hash = e.ComputeHash(prev)
		prev = e.Hash
		entries = append(entries, e)
	}
	if p := standing.VerifyChain(entries, "", 0); p != nil {
		t.Fatalf("clean chain: %+v", p)
	}
	erased := append([]standing.AuditEntry(nil), entries...)
	erased[1].Personal, erased[1].PersonalSalt = "", ""
	if p := standing.VerifyChain(erased, "", 0); p != nil {
		t.Fatalf("chain with personal data erased: %+v", p)
	}
	edited := append([]standing.AuditEntry(nil), entries...)
	edited[1].Action = "y"
	if p := standing.VerifyChain(edited, "", 0); p == nil || p.Seq != 2 {
		t.Fatalf("edited chain: %+v, want entry 2", p)
	}
	gap := []standing.AuditEntry{entries[0], entries[2]}
	if p := standing.VerifyChain(gap, "", 0); p == nil || p.Seq != 3 {
		t.Fatalf("chain with a gap: %+v", p)
	}
}

func TestParseDurationAndSize(t *testing.T) {
	for in, want := range map[string]time.Duration{"72h": 72 * time.Hour, "7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "30m": 30 * time.Minute} {
		got, err := standing.ParseDuration(in)
		if err != nil || got.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "-3d", "d"} {
		if _, err := standing.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	var b standing.ByteSize
	if err := b.UnmarshalText([]byte("3MB")); err != nil || b != 3<<20 || b.String() != "3 MB" {
		t.Errorf("3MB = %d %q %v", b, b.String(), err)
	}
	if err := b.UnmarshalText([]byte("lots")); err == nil {
		t.Error("bad size accepted")
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	a := standing.NewID("acc", t0)
	b := standing.NewID("acc", t0.Add(time.Millisecond))
	if len(a) != 30 || !strings.HasPrefix(a, "acc_") || a >= b {
		t.Fatalf("ids %s, %s", a, b)
	}
	if standing.NewID("acc", t0) == standing.NewID("acc", t0) {
		t.Fatal("two ids in one millisecond are equal")
	}
}

func TestPolicyValidateNamesTheSetting(t *testing.T) {
	p := standing.DefaultPolicy()
	p.Appeals.ReviewTarget = p.Appeals.Breach + 1
	if err := p.Validate(); standing.ErrorField(err) != "appeals.review_target" {
		t.Errorf("review target after breach: %v", err)
	}
	p = standing.DefaultPolicy()
	p.Reasons = p.Reasons[1:]
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "email_unverified") {
		t.Errorf("dropping a built-in reason: %v", err)
	}
}

func TestNewIDMonotonic(t *testing.T) {
	prev := ""
	for i := 0; i < 1000; i++ {
		id := standing.NewID("x", t0)
		if id <= prev {
			t.Fatalf("id %d = %s is not after %s", i, id, prev)
		}
		prev = id
	}
}

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		m    standing.Money
		want string
	}{
		{standing.Money{Currency: "EUR", Amount: 1250}, "EUR 12.50"},
		{standing.Money{Currency: "EUR", Amount: -50}, "EUR -0.50"},
		{standing.Money{Currency: "EUR", Amount: -1205}, "EUR -12.05"},
		{standing.Money{Currency: "USD", Amount: 5}, "USD 0.05"},
		{standing.Money{Currency: "USD", Amount: 0}, "USD 0.00"},
		{standing.Money{Amount: 100}, "1.00"},
		{standing.Money{Currency: "EUR", Amount: math.MinInt64}, "EUR -92233720368547758.08"},
	} {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
	if got := standing.MoneyWords([]standing.Money{{Currency: "EUR", Amount: 1250}, {Currency: "USD", Amount: -300}}); got != "EUR 12.50 and USD -3.00" {
		t.Errorf("MoneyWords = %q", got)
	}
}

// TestHashToken pins the stored form of secrets: sessions, links and API keys already
// stored must still match after a change here.
func TestHashToken(t *testing.T) {
	if got, want := standing.HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashToken(abc) = %s, want %s", got, want)
	}
}
