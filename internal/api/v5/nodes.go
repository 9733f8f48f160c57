package v5

func (a *API) nodeRoutes() []route { return nil }
