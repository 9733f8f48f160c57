package v5

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// BanJSON is one ban.
type BanJSON struct {
	As     string  `json:"as" enum:"clientid,username,peerhost,clientid_re,username_re,peerhost_net"`
	Who    string  `json:"who"`
	By     string  `json:"by"`
	Reason string  `json:"reason"`
	At     *string `json:"at"`
	Until  *string `json:"until"`
}

// BanRequest is POST /banned's body. at and until are RFC 3339 or epoch
// seconds; at defaults to now, until to at + 1 year.
type BanRequest struct {
	As     string      `json:"as" enum:"clientid,username,peerhost,clientid_re,username_re,peerhost_net"`
	Who    string      `json:"who"`
	By     string      `json:"by,omitempty"`
	Reason string      `json:"reason,omitempty"`
	At     TimeOrEpoch `json:"at,omitempty"`
	Until  TimeOrEpoch `json:"until,omitempty"`
}

// TimeOrEpoch is a time given as an RFC 3339 string or an integer of
// epoch seconds; empty when absent.
type TimeOrEpoch string

// UnmarshalJSON accepts a JSON string or number.
func (t *TimeOrEpoch) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = TimeOrEpoch(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("must be an RFC 3339 time or epoch seconds")
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return errors.New("must be an RFC 3339 time or integer epoch seconds")
	}
	*t = TimeOrEpoch(n.String())
	return nil
}

// parse returns the time, zero when absent.
func (t TimeOrEpoch) parse(name string) (time.Time, error) {
	if t == "" {
		return time.Time{}, nil
	}
	v, err := api.ParseTime(string(t), time.Second)
	if err != nil {
		return time.Time{}, api.BadRequest("%s: %v", name, err)
	}
	return v, nil
}

func (a *API) bannedRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/banned", tag: "Banned",
			summary: "List all currently banned client IDs, usernames and IP addresses.",
			query:   &PageParams{}, resp: &PagedList[BanJSON]{}, h: a.listBanned},
		{method: http.MethodPost, path: "/banned", tag: "Banned",
			summary: "Add a client ID, username or IP address to the blacklist.",
			body:    &BanRequest{}, resp: &BanJSON{}, h: a.createBan},
		{method: http.MethodDelete, path: "/banned", tag: "Banned", summary: "Clear all banned data.",
			status: http.StatusNoContent, h: a.clearBanned},
		{method: http.MethodDelete, path: "/banned/{as}/{who}", tag: "Banned",
			summary: "Remove a client ID, username or IP address from the blacklist.",
			status:  http.StatusNoContent, h: a.deleteBan},
	}
}

func (a *API) listBanned(w http.ResponseWriter, r *http.Request) error {
	q, err := api.ParsePage(r, "BAD_REQUEST")
	if err != nil {
		return err
	}
	p, err := a.svc.ListBanned(r.Context(), q)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pagedList(p, banJSON))
}

func (a *API) createBan(w http.ResponseWriter, r *http.Request) error {
	var req BanRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.As == "" || req.Who == "" {
		return api.BadRequest("as and who are required")
	}
	at, err := req.At.parse("at")
	if err != nil {
		return err
	}
	until, err := req.Until.parse("until")
	if err != nil {
		return err
	}
	b, err := a.svc.CreateBan(r.Context(), service.Ban{As: req.As, Who: req.Who, By: req.By, Reason: req.Reason, At: at, Until: until})
	var ee *service.BanExistsError
	if errors.As(err, &ee) {
		// EMQX puts the existing ban, as JSON, in the message.
		msg, _ := json.Marshal(banJSON(&ee.Existing))
		return api.Errorf(http.StatusBadRequest, "ALREADY_EXISTS", "%s", msg)
	}
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, banJSON(&b))
}

func banJSON(b *service.Ban) BanJSON {
	return BanJSON{As: b.As, Who: b.Who, By: b.By, Reason: b.Reason, At: api.FormatTime(b.At), Until: untilJSON(b.Until)}
}

// untilJSON formats a ban's end; a ban without one never expires.
func untilJSON(t time.Time) *string {
	if t.IsZero() {
		s := "infinity"
		return &s
	}
	return api.FormatTime(t)
}

func (a *API) deleteBan(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteBan(r.Context(), pathParam(r, "as"), pathParam(r, "who")); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) clearBanned(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.ClearBanned(r.Context()); err != nil {
		return err
	}
	return api.NoContent(w)
}
