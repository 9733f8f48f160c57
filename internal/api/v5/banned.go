package v5

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
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
	As     BanKind     `json:"as" required:"true"`
	Who    string      `json:"who" required:"true" minLength:"1" description:"no U+0000; an IP address for peerhost, an IPv4 CIDR for peerhost_net, a regular expression for the _re kinds"`
	By     string      `json:"by,omitempty"`
	Reason string      `json:"reason,omitempty"`
	At     TimeOrEpoch `json:"at,omitempty"`
	Until  TimeOrEpoch `json:"until,omitempty" description:"RFC 3339 (from 1970 to 9999) or epoch seconds, after at and now"`
}

// PrepareJSONSchema adds what who must be for each as: an IP address
// for peerhost, an IPv4 CIDR for peerhost_net (IPv6 is accepted too), a
// regular expression for the _re kinds.
func (BanRequest) PrepareJSONSchema(s *jsonschema.Schema) error {
	variant := func(who *jsonschema.Schema, as ...string) jsonschema.SchemaOrBool {
		var v jsonschema.Schema
		e := stringEnum("", as...)
		v.WithProperties(map[string]jsonschema.SchemaOrBool{"as": e.ToSchemaOrBool(), "who": who.ToSchemaOrBool()})
		return v.ToSchemaOrBool()
	}
	ip, _ := IPAddress("").JSONSchema()
	cidr := schemaString().WithPattern("^" + ipv4Pattern + "/([0-9]|[12][0-9]|3[0-2])$")
	re := schemaString().WithFormat("regex").WithPattern(noNULPattern)
	s.WithOneOf(variant(schemaString().WithPattern(noNULPattern), "clientid", "username"),
		variant(&ip, "peerhost"), variant(cidr, "peerhost_net"), variant(re, "clientid_re", "username_re"))
	return nil
}

// BanKind is a ban's as.
type BanKind string

// JSONSchema is the service's kinds.
func (BanKind) JSONSchema() (jsonschema.Schema, error) {
	return stringEnum("", service.BanKinds()...), nil
}

// BanPath is DELETE /banned/{as}/{who}'s path.
type BanPath struct {
	As  BanKind `path:"as"`
	Who string  `path:"who"`
}

func (a *API) bannedRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/banned", tag: "Banned",
			summary: "List all currently banned client IDs, usernames and IP addresses.",
			query:   &PageParams{}, resp: &PagedList[BanJSON]{}, example: example{query: kv("page", "1", "limit", "10")}, h: a.listBanned},
		{method: http.MethodPost, path: "/banned", tag: "Banned",
			summary: "Add a client ID, username or IP address to the blacklist.",
			body:    &BanRequest{}, resp: &BanJSON{}, errs: map[int][]string{400: {"ALREADY_EXISTS"}}, example: example{body: obj{"as": "clientid", "who": "example-new-ban", "reason": "example", "until": 4102444800}}, h: a.createBan},
		{method: http.MethodDelete, path: "/banned", tag: "Banned", summary: "Clear all banned data.",
			status: http.StatusNoContent, h: a.clearBanned},
		{method: http.MethodDelete, path: "/banned/{as}/{who}", tag: "Banned",
			summary:    "Remove a client ID, username or IP address from the blacklist.",
			pathParams: &BanPath{}, status: http.StatusNoContent, example: example{path: kv("as", "clientid", "who", exampleBanned)}, h: a.deleteBan},
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
	at, err := req.At.parse("at")
	if err != nil {
		return err
	}
	until, err := req.Until.parse("until")
	if err != nil {
		return err
	}
	b, err := a.svc.CreateBan(r.Context(), service.Ban{As: string(req.As), Who: req.Who, By: req.By, Reason: req.Reason, At: at, Until: until})
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
