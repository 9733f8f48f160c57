package v5

func (a *API) publishRoutes() []route { return nil }
