package v5

func (a *API) alarmRoutes() []route { return nil }
