package app

import "standing/httpapi"

// wireSellers wires seller penalties, performance standards and the seller dashboard.
func (a *App) wireSellers() ([]httpapi.Route, error) { return nil, nil }
