package app

import (
	"strconv"

	"standing/erasure"
	"standing/httpapi"
)

// wireErasure wires account deletion, the erasure jobs and tracking.
func (a *App) wireErasure() ([]httpapi.Route, error) {
	a.Erasure = erasure.New(a.Store, a.Blobs, a.Policy, a.Config.BaseURL)
	if n, err := strconv.Atoi(a.getenv("STANDING_TEST_CRASH_ERASURE")); err == nil && n > 0 {
		a.Log.Warn("STANDING_TEST_CRASH_ERASURE is set: the process kills itself during an erasure (crash-recovery tests only)", "after_steps", n)
		a.Erasure.CrashAfterSteps = n
	}
	a.Runner.Every("erase accounts whose grace period ended", a.Erasure.RunDue)
	a.Runner.Every("erasure deadlines", a.Erasure.Deadlines)
	return httpapi.ErasureRoutes(a.Erasure), nil
}
