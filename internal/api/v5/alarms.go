package v5

import (
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// AlarmsQuery is GET /alarms's query.
type AlarmsQuery struct {
	Page      int  `query:"page" description:"Page number of the results to fetch." default:"1" minimum:"1" maximum:"2147483647"`
	Limit     int  `query:"limit" description:"Results per page (max 10000)." default:"100" minimum:"1" maximum:"10000"`
	Activated bool `query:"activated" description:"true: currently activated alarms; false: the history of deactivated ones." default:"true"`
}

// AlarmJSON is one alarm. deactivate_at is "infinity" while it is active;
// duration is in milliseconds.
type AlarmJSON struct {
	Node         string         `json:"node"`
	Name         string         `json:"name"`
	Message      string         `json:"message"`
	Details      map[string]any `json:"details"`
	Duration     int64          `json:"duration"`
	ActivateAt   *string        `json:"activate_at"`
	DeactivateAt *string        `json:"deactivate_at"`
}

func (a *API) alarmRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/alarms", tag: "Alarms",
			summary: "List currently activated alarms or historical alarms, determined by query parameters.",
			query:   &AlarmsQuery{}, resp: &PagedList[AlarmJSON]{}, example: example{query: kv("activated", "true", "page", "1", "limit", "10")}, h: a.listAlarms},
		{method: http.MethodDelete, path: "/alarms", tag: "Alarms", summary: "Remove all historical alarms.",
			status: http.StatusNoContent, h: a.clearAlarms},
	}
}

func (a *API) listAlarms(w http.ResponseWriter, r *http.Request) error {
	q, err := api.ParsePage(r, "BAD_REQUEST")
	if err != nil {
		return err
	}
	activated, err := api.QueryBool(r, "activated")
	if err != nil {
		return err
	}
	p, err := a.svc.ListAlarms(r.Context(), activated == nil || *activated, q)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pagedList(p, alarmJSON))
}

func alarmJSON(al *service.Alarm) AlarmJSON {
	out := AlarmJSON{Node: al.Node, Name: al.Name, Message: al.Message, Details: al.Details,
		Duration: al.Duration.Milliseconds(), ActivateAt: api.FormatTime(al.ActivateAt)}
	if out.Details == nil {
		out.Details = map[string]any{}
	}
	if al.Activated {
		inf := "infinity"
		out.DeactivateAt = &inf
	} else {
		out.DeactivateAt = api.FormatTime(al.DeactivateAt)
	}
	return out
}

func (a *API) clearAlarms(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.ClearAlarmHistory(r.Context()); err != nil {
		return err
	}
	return api.NoContent(w)
}
