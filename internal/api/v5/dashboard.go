package v5

func (a *API) dashboardRoutes() []route { return nil }
