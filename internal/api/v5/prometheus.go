package v5

func (a *API) prometheusRoutes() []route { return nil }
