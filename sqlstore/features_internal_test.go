package sqlstore

import (
	"context"
	"net/netip"
	"testing"

	"standing"
	"standing/rules"
	"standing/standingtest"
)

// TestDenyListHitBeforeTheFirstEvent: an order whose shipping address is on the deny list
// counts against the buyer before the buyer's first event, and the first event still
// records the account's own details (its phone here), so the account is linked to another
// with that phone.
func TestDenyListHitBeforeTheFirstEvent(t *testing.T) {
	onBoth(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		phone := standing.IdentityAttribute{Kind: standing.IdentityPhone, Hash: "phone-hash-4915100000003", Display: "+49…003"}
		address := standing.IdentityAttribute{Kind: standing.IdentityShippingAddress, Hash: "address-hash-of-a-fraudster", Display: "Ha…"}
		r := phoneRisk(t, s, phone)
		res, err := s.CreateAccounts(ctx, []standing.NewAccount{
			{Role: standing.RoleBuyer, Email: "first@example.com", Phone: "+4915100000003", Lifecycle: standing.LifecycleActive},
			{Role: standing.RoleBuyer, Email: "second@example.com", Phone: "+4915100000003", Lifecycle: standing.LifecycleActive},
			{Role: standing.RoleSeller, Email: "shop@example.com", Lifecycle: standing.LifecycleActive},
		}, "test")
		if err != nil {
			t.Fatal(err)
		}
		first, second, shop := res[0].Account.ID, res[1].Account.ID, res[2].Account.ID
		event := func(id, account string) {
			t.Helper()
			out, err := r.ProcessEvents(ctx, []standing.EventInput{{Event: standing.Event{ID: id, AccountID: account,
				Type: standing.EventLoginSucceeded, Time: standingtest.Start}}})
			if err != nil || out[0].Err != nil {
				t.Fatal(err, out)
			}
		}
		event("evt-first", first)
		if err := s.write(ctx, func(t *tx) error {
			_, err := t.exec("INSERT INTO identity_denylist (kind, value_hash, reason_code, created_at) VALUES (?, ?, ?, ?)",
				address.Kind, address.Hash, standing.ReasonFraudConfirmed, ts(t.now))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateOrder(ctx, standing.NewOrder{BuyerID: second, SellerID: shop, Amount: 1000, Currency: "EUR",
			Identity: []standing.IdentityAttribute{address}}, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := s.DenyListHits(ctx, second); err != nil || n != 1 {
			t.Fatalf("deny-list hits before the first event = %d, %v; want 1", n, err)
		}
		event("evt-second", second)
		links, err := s.Links(ctx, second)
		if err != nil || len(links) != 1 || links[0].AccountID != first {
			t.Fatalf("links of the second account after its first event = %+v, %v; want the first account, by phone", links, err)
		}
		if n, err := s.DenyListHits(ctx, second); err != nil || n != 1 {
			t.Fatalf("deny-list hits after the first event = %d, %v; want 1", n, err)
		}
	})
}

// TestOwnEventsCountInTheFeatures: the events Standing records itself — failed sign-ins
// here — count in the account's risk features as the marketplace's do, and the first of
// them records the account's own details, linking it to another account with its phone.
func TestOwnEventsCountInTheFeatures(t *testing.T) {
	onBoth(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		phone := standing.IdentityAttribute{Kind: standing.IdentityPhone, Hash: "phone-hash-4915100000004", Display: "+49…004"}
		r := phoneRisk(t, s, phone)
		res, err := s.CreateAccounts(ctx, []standing.NewAccount{
			{Role: standing.RoleBuyer, Email: "one@example.com", Phone: "+4915100000004", Lifecycle: standing.LifecycleActive},
			{Role: standing.RoleBuyer, Email: "two@example.com", Phone: "+4915100000004", Lifecycle: standing.LifecycleActive},
		}, "test")
		if err != nil {
			t.Fatal(err)
		}
		one, two := res[0].Account.ID, res[1].Account.ID
		if out, err := r.ProcessEvents(ctx, []standing.EventInput{{Event: standing.Event{ID: "evt-one", AccountID: one,
			Type: standing.EventLoginSucceeded, Time: standingtest.Start}}}); err != nil || out[0].Err != nil {
			t.Fatal(err, out)
		}
		for range 3 {
			if err := s.RecordEvent(ctx, standing.Event{AccountID: two, Type: standing.EventLoginFailed, IP: "198.51.100.7"}); err != nil {
				t.Fatal(err)
			}
		}
		if links, err := s.Links(ctx, two); err != nil || len(links) != 1 || links[0].AccountID != one {
			t.Fatalf("links after the account's own events = %+v, %v; want the account with its phone", links, err)
		}
		sample := standing.EventInput{Event: standing.Event{ID: "sample", AccountID: two, Type: standing.EventLoginSucceeded, Time: standingtest.Start}}
		got, err := r.TestRule(ctx, rules.Rule{ID: "failures", Name: "Failures", Expression: "features.login_failures_1h >= 3",
			Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true}, sample, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Fired {
			t.Fatalf("three failed sign-ins are not in the features: %v", got.Features)
		}
	})
}

// TestOwnEventsCarryIPFacts: an event Standing records itself gets the country, AS and
// flags of its address from IP intelligence, as the marketplace's events do, so sign-ins
// from two countries count as two countries.
func TestOwnEventsCarryIPFacts(t *testing.T) {
	onBoth(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		countries := map[string]string{"192.0.2.10": "DE", "198.51.100.20": "BR"}
		r := NewRisk(s, RiskOptions{IPFacts: func(in *standing.EventInput, ip netip.Addr) {
			in.Country = countries[ip.String()]
		}})
		if _, err := r.SeedDefaultRules(ctx); err != nil {
			t.Fatal(err)
		}
		acc := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "traveller@example.com")
		for ip := range countries {
			if err := s.RecordEvent(ctx, standing.Event{AccountID: acc.ID, Type: standing.EventLoginFailed, IP: ip}); err != nil {
				t.Fatal(err)
			}
		}
		sample := standing.EventInput{Event: standing.Event{ID: "sample", AccountID: acc.ID, Type: standing.EventLoginSucceeded, Time: standingtest.Start}}
		got, err := r.TestRule(ctx, rules.Rule{ID: "countries", Name: "Countries", Expression: "features.countries_30d >= 2",
			Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true}, sample, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Fired {
			t.Fatalf("sign-ins from two countries are not two countries in the features: %v", got.Features)
		}
	})
}

// phoneRisk returns the risk engine over s, its default rules stored, that records phone
// as the identity detail of any account record with a phone.
func phoneRisk(t *testing.T, s *Store, phone standing.IdentityAttribute) *Risk {
	t.Helper()
	r := NewRisk(s, RiskOptions{Identity: func(a standing.Account) []standing.IdentityAttribute {
		if a.Phone == "" {
			return nil
		}
		return []standing.IdentityAttribute{phone}
	}})
	if _, err := r.SeedDefaultRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}
