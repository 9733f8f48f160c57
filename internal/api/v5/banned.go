package v5

func (a *API) bannedRoutes() []route { return nil }
