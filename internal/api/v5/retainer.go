package v5

func (a *API) retainerRoutes() []route { return nil }
