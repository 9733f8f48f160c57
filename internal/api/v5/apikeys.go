package v5

func (a *API) apiKeyRoutes() []route { return nil }
