package v5

func (a *API) metricsRoutes() []route { return nil }
