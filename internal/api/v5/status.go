package v5

func (a *API) statusRoutes() []route { return nil }

func (a *API) unprefixedRoutes() []route { return nil }
