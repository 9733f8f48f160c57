package v5

func (a *API) configRoutes() []route { return nil }
