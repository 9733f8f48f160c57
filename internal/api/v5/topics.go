package v5

func (a *API) topicRoutes() []route { return nil }
