package v5

func (a *API) clientRoutes() []route { return nil }
