package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"standing"
)

// ErasureOptions configure the erasure benchmark.
type ErasureOptions struct {
	Accounts    int
	DatabaseURL string
}

// Erasure fills the store with accounts that carry realistic data — a restriction with a
// note and its mail, an order, events — requests their deletion, moves the clock past the
// grace period and times the erasure jobs, printing the rate.
func Erasure(ctx context.Context, o ErasureOptions, out io.Writer) error {
	if o.Accounts <= 0 {
		o.Accounts = 100000
	}
	s, err := StartServer(ctx, o.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(out, "standing bench erasure: %d accounts, store %s\n", o.Accounts, s.App.Store.Dialect())
	start := time.Now()
	ids, _, err := s.ImportAccounts(ctx, o.Accounts, "erase")
	if err != nil {
		return err
	}
	sellerRes, err := s.App.Store.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleSeller, Email: "seller@bench.example", Lifecycle: standing.LifecycleActive}}, "bench")
	if err != nil || sellerRes[0].Err != nil {
		return fmt.Errorf("seller: %v", err)
	}
	seller := sellerRes[0].Account.ID
	// Events and completed orders through the API, in batches.
	for i := 0; i < len(ids); i += 500 {
		var events []map[string]any
		for j := i; j < len(ids) && j < i+500; j++ {
			events = append(events, map[string]any{"id": fmt.Sprintf("evt-erase-%d", j), "type": "login_succeeded", "account_id": ids[j],
				"ip": fmt.Sprintf("10.%d.%d.%d", j>>16&255, j>>8&255, j&255), "device_id": fmt.Sprintf("dev-%d", j)})
		}
		body, _ := json.Marshal(map[string]any{"events": events})
		if err := s.Post(ctx, "/v1/events", body, nil); err != nil {
			return err
		}
	}
	for i, id := range ids {
		body, _ := json.Marshal(map[string]any{"buyer_id": id, "seller_id": seller, "amount": 1000 + i, "currency": "EUR", "status": "paid",
			"recipient_name": fmt.Sprintf("Recipient %d", i), "tracking_number": fmt.Sprintf("TRK%09d", i)})
		var o map[string]any
		if err := s.Post(ctx, "/v1/orders", body, &o); err != nil {
			return err
		}
		for _, status := range []string{"shipped", "completed"} {
			patch, _ := json.Marshal(map[string]any{"status": status})
			if err := s.Send(ctx, "PATCH", "/v1/orders/"+o["id"].(string), patch, nil); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(out, "fill:    %d accounts with a restriction, an event and an order in %.1fs\n", len(ids), time.Since(start).Seconds())
	start = time.Now()
	for _, id := range ids {
		a, err := s.App.Store.Account(ctx, id)
		if err != nil {
			return err
		}
		if _, err := s.App.Erasure.Request(ctx, standing.DeletionRequest{AccountID: id, ConfirmEmail: a.Email, Phrase: "Deactivate my account",
			Reason: "Other", RequestedBy: "bench"}); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "request: %d deletions in %.1fs (%.0f/s)\n", len(ids), time.Since(start).Seconds(), float64(len(ids))/time.Since(start).Seconds())
	dc := s.App.Clock
	if oc, ok := dc.(*standing.OffsetClock); ok {
		oc.Advance(25 * time.Hour)
	} else {
		return fmt.Errorf("the bench server needs a movable clock")
	}
	start = time.Now()
	for {
		if err := s.App.Erasure.RunDue(ctx, dc.Now()); err != nil {
			return err
		}
		left, err := s.App.Store.DueErasures(ctx, dc.Now(), 1)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			break
		}
	}
	took := time.Since(start)
	var erased int
	for _, id := range ids {
		a, err := s.App.Store.Account(ctx, id)
		if err != nil {
			return err
		}
		if a.Lifecycle == standing.LifecycleErased {
			erased++
		}
	}
	fmt.Fprintf(out, "erase:   %d of %d accounts erased in %.1fs = %.0f accounts/s (batches of 200 per transaction; certificates written)\n",
		erased, len(ids), took.Seconds(), float64(erased)/took.Seconds())
	if erased != len(ids) {
		return fmt.Errorf("%d accounts were not erased", len(ids)-erased)
	}
	return nil
}
