package sqlstore_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"standing"
	"standing/app/apptest"
	"standing/penalty"
)

// ledgerModel keeps the facts of the orders a test writes, as penalty reads them.
type ledgerModel struct {
	orders map[string]*penalty.OrderFacts
	seller map[string]string
}

// TestPerformanceBucketsMatchThePureMetrics writes random orders, shipments,
// cancellations and disputes through the store, and checks after every sweep — the first
// (a full build), incremental ones with the clock still and moving, and a rebuild — that
// each seller's metrics and chart equal what penalty computes from the orders' facts.
func TestPerformanceBucketsMatchThePureMetrics(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		st := e.App.Store
		p := st.Policy()
		rng := rand.New(rand.NewPCG(1, 2))
		var sellers []string
		for _, email := range []string{"a@s.example", "b@s.example", "c@s.example"} {
			sellers = append(sellers, e.CreateAccount("seller", email))
		}
		buyer := e.CreateAccount("buyer", "b@b.example")
		m := ledgerModel{orders: map[string]*penalty.OrderFacts{}, seller: map[string]string{}}
		now := func() time.Time { return e.Clock.Now() }

		place := func(n int) {
			for range n {
				seller := sellers[rng.IntN(len(sellers))]
				placed := now().Add(-time.Duration(rng.IntN(70*24)) * time.Hour).Truncate(time.Second)
				shipBy := placed.Add(time.Duration(24+rng.IntN(72)) * time.Hour)
				in := standing.NewOrder{BuyerID: buyer, SellerID: seller, Amount: 100, Currency: "EUR", Status: standing.OrderPaid, PlacedAt: placed, ShipBy: &shipBy}
				if err := in.Validate(now()); err != nil {
					t.Fatal(err)
				}
				o, _, err := st.CreateOrder(ctx, in, nil)
				if err != nil {
					t.Fatal(err)
				}
				m.orders[o.ID] = &penalty.OrderFacts{OrderID: o.ID, PlacedAt: o.PlacedAt, ShipBy: o.ShipBy}
				m.seller[o.ID] = seller
			}
		}
		// change moves some open orders on: shipped (in time or late), cancelled by the
		// seller or the buyer, or disputed.
		change := func(n int) {
			i := 0
			for id, f := range m.orders {
				if i >= n {
					break
				}
				i++
				switch r := rng.IntN(5); {
				case f.ShippedAt == nil && f.CancelledAt == nil && r < 2:
					at := f.PlacedAt.Add(time.Duration(rng.IntN(96)) * time.Hour)
					if at.After(now()) {
						at = now()
					}
					status := standing.OrderShipped
					patch := standing.OrderPatch{Status: &status, At: at}
					if err := patch.Validate(now()); err != nil {
						t.Fatal(err)
					}
					if _, _, err := st.UpdateOrder(ctx, id, patch, nil); err != nil {
						t.Fatal(err)
					}
					f.ShippedAt = &patch.At
				case f.ShippedAt == nil && f.CancelledAt == nil && r < 4:
					status := standing.OrderCancelled
					by := standing.CancelledBySeller
					if r == 3 {
						by = standing.CancelledByBuyer
					}
					patch := standing.OrderPatch{Status: &status, CancelledBy: by, At: f.PlacedAt.Add(time.Hour)}
					if err := patch.Validate(now()); err != nil {
						t.Fatal(err)
					}
					if _, _, err := st.UpdateOrder(ctx, id, patch, nil); err != nil {
						t.Fatal(err)
					}
					f.CancelledAt, f.CancelledBySeller = &patch.At, by == standing.CancelledBySeller
				case !f.Defect:
					d := standing.NewDispute{OrderID: id}
					if err := d.Validate(now()); err != nil {
						t.Fatal(err)
					}
					if _, _, err := st.CreateDispute(ctx, d, nil); err != nil {
						t.Fatal(err)
					}
					f.Defect = true
				}
			}
		}
		compare := func(when string) {
			t.Helper()
			for _, s := range sellers {
				var facts []penalty.OrderFacts
				for id, f := range m.orders {
					if m.seller[id] == s {
						facts = append(facts, *f)
					}
				}
				got, err := st.SellerStanding(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				want := penalty.Metrics(p, facts, got.At)
				if !reflect.DeepEqual(got.Performance, want) {
					t.Fatalf("%s: seller %s metrics\n got  %+v\n want %+v", when, s, got.Performance, want)
				}
				if ws := penalty.Series(p, facts, got.At); !reflect.DeepEqual(got.Chart, ws) {
					t.Fatalf("%s: seller %s chart differs", when, s)
				}
			}
		}
		sync := func() {
			t.Helper()
			if _, err := st.SyncSellerPerformance(ctx); err != nil {
				t.Fatal(err)
			}
		}

		place(150)
		change(60)
		res, err := st.SyncSellerPerformance(ctx)
		if err != nil || !res.Rebuilt {
			t.Fatalf("first sweep = %+v %v, want a rebuild", res, err)
		}
		compare("after the first sweep")

		change(80) // at the same instant as the sweep: read again by the next one
		place(20)
		sync()
		compare("after changes at the sweep's instant")

		e.Clock.Advance(time.Minute)
		change(100)
		res, err = st.SyncSellerPerformance(ctx)
		if err != nil || res.Rebuilt || res.Changes == 0 || len(res.Sellers) == 0 {
			t.Fatalf("incremental sweep = %+v %v", res, err)
		}
		compare("after an incremental sweep")

		// The sweep rereads only what changed at the instant of its last run (harmless: a
		// bucket is recomputed, not added to); once the clock moved on, nothing is read.
		e.Clock.Advance(time.Minute)
		sync()
		e.Clock.Advance(time.Minute)
		res, err = st.SyncSellerPerformance(ctx)
		if err != nil || res.Changes != 0 || res.Buckets != 0 {
			t.Fatalf("a sweep with nothing new = %+v %v", res, err)
		}
		compare("after sweeps with nothing new")

		e.Clock.Advance(20 * 24 * time.Hour) // the window slides: old orders drop out
		place(30)
		change(200)
		sync()
		compare("after the window slid")

		if _, err := st.RebuildSellerPerformance(ctx); err != nil {
			t.Fatal(err)
		}
		compare("after a rebuild")
	})
}
