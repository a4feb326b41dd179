package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"standing/httpapi"
	"standing/jobs"
	"standing/sqlstore"
)

// fullEvaluationEvery is how often, by the service clock, every seller's performance is
// judged again: the window slides and grace periods end even when no order changes.
const fullEvaluationEvery = time.Hour

// wireSellers wires seller penalties, performance standards and the seller dashboard: the
// jobs of fee deadlines and EU closure notices, the performance sweep, the dashboard's
// source and the API routes.
func (a *App) wireSellers() ([]httpapi.Route, error) {
	a.sellers = a.Store
	a.Runner.Handle(sqlstore.JobSellerFeeOverdue, func(ctx context.Context, j jobs.Job) error {
		var p struct {
			FeeID string `json:"fee_id"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.FeeID == "" {
			return jobs.Permanent{Err: fmt.Errorf("bad payload %s", j.Payload)}
		}
		return a.Store.EnforceFee(ctx, p.FeeID)
	})
	a.Runner.Handle(sqlstore.JobSellerClosure, func(ctx context.Context, j jobs.Job) error {
		var p struct {
			NoticeID string `json:"notice_id"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.NoticeID == "" {
			return jobs.Permanent{Err: fmt.Errorf("bad payload %s", j.Payload)}
		}
		return a.Store.ApplyClosure(ctx, p.NoticeID)
	})
	var lastFull atomic.Int64
	a.Runner.Every("sellers: performance standards", func(ctx context.Context, now time.Time) error {
		// On every pass: the buckets of the orders and disputes that changed, and the
		// sellers they belong to judged at once.
		res, err := a.Store.SyncSellerPerformance(ctx)
		if err != nil {
			return err
		}
		last := lastFull.Load()
		if res.Rebuilt || last == 0 || now.Sub(time.Unix(0, last)) >= fullEvaluationEvery {
			lastFull.Store(now.UnixNano())
			_, err = a.Store.EvaluateAllSellers(ctx)
			return err
		}
		if len(res.Sellers) > 0 {
			_, err = a.Store.EvaluateSellers(ctx, res.Sellers)
		}
		return err
	})
	return httpapi.SellerRoutes(httpapi.SellerDeps{Sellers: a.Store, Policy: a.Policy}), nil
}
