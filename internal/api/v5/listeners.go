package v5

func (a *API) listenerRoutes() []route { return nil }
