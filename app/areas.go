package app

import "standing/httpapi"

// wireAreas wires the feature areas built on the core — each registers its jobs and
// returns its API routes — in the order they depend on each other.
func (a *App) wireAreas() ([]httpapi.Route, error) {
	var routes []httpapi.Route
	for _, wire := range []func() ([]httpapi.Route, error){a.wireIdentity, a.wireRisk, a.wireAppeals, a.wireSellers, a.wireErasure} {
		r, err := wire()
		if err != nil {
			return nil, err
		}
		routes = append(routes, r...)
	}
	return routes, nil
}
