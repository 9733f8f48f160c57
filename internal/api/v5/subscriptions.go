package v5

func (a *API) subscriptionRoutes() []route { return nil }
