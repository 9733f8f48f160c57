package v5

func (a *API) docsRoutes() []route { return nil }
