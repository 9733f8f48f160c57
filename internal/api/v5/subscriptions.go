package v5

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// SubscriptionInfo is EMQX's subscription record.
type SubscriptionInfo struct {
	Node     string `json:"node"`
	Topic    string `json:"topic"`
	ClientID string `json:"clientid"`
	QoS      byte   `json:"qos"`
	NL       int    `json:"nl"`
	RAP      int    `json:"rap"`
	RH       byte   `json:"rh"`
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func subscriptionInfo(s *service.Subscription) SubscriptionInfo {
	return SubscriptionInfo{Node: s.Node, Topic: s.Topic, ClientID: s.ClientID, QoS: s.QoS, NL: b2i(s.NoLocal), RAP: b2i(s.RAP), RH: s.RH}
}

func subscriptionInfos(subs []service.Subscription) []SubscriptionInfo {
	out := make([]SubscriptionInfo, len(subs))
	for i := range subs {
		out[i] = subscriptionInfo(&subs[i])
	}
	return out
}

// SubscriptionsQuery documents GET /subscriptions' parameters.
type SubscriptionsQuery struct {
	Page       int                `query:"page" default:"1" minimum:"1" maximum:"2147483647" description:"Page number of the results"`
	Limit      int                `query:"limit" default:"100" minimum:"1" maximum:"10000" description:"Results per page"`
	Node       string             `query:"node" description:"Only subscriptions on this node"`
	ClientID   string             `query:"clientid" description:"Client id"`
	QoS        int                `query:"qos" minimum:"0" maximum:"2" description:"QoS"`
	Topic      TopicFilter        `query:"topic" description:"Topic filter, exact ($share/<group>/<filter> for one shared group)"`
	MatchTopic TopicFilterNoShare `query:"match_topic" description:"Subscriptions whose filter this filter matches (no meta.count; shared filters refused)"`
	ShareGroup string             `query:"share_group" description:"Shared subscription group"`
}

func (a *API) subscriptionRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/subscriptions", tag: "Subscriptions", summary: "List subscriptions",
			query: &SubscriptionsQuery{}, resp: &PagedList[SubscriptionInfo]{}, errs: nodeErrs, example: example{query: kv("clientid", exampleClient, "qos", "1")}, h: a.listSubscriptions},
	}
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	pq, err := api.ParsePage(r, "INVALID_PARAMETER")
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := service.SubscriptionQuery{PageQuery: pq, Node: v.Get("node"), ClientID: v.Get("clientid"),
		Topic: v.Get("topic"), MatchTopic: v.Get("match_topic"), ShareGroup: v.Get("share_group")}
	if s := v.Get("qos"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 2 {
			return invalidParam("the qos parameter expected type is qos, but the value is %s", s)
		}
		b := byte(n)
		q.QoS = &b
	}
	p, err := a.svc.ListSubscriptions(r.Context(), q)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pagedList(p, subscriptionInfo))
}

func (a *API) clientSubscriptions(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.svc.ClientSubscriptions(r.Context(), pathParam(r, "clientid"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, subscriptionInfos(subs))
}

// subscribeRequest checks one subscribe body (EMQX's schema: topic
// required, qos 0..2, nl/rap/rh integers).
func subscribeRequest(b *SubscribeBody) (service.SubscribeRequest, error) {
	if b.Topic == "" {
		return service.SubscribeRequest{}, api.BadRequest("topic is required")
	}
	get := func(name string, p *int, hi int) (int, error) {
		if p == nil {
			return 0, nil
		}
		if *p < 0 || *p > hi {
			return 0, api.BadRequest("%s: %d is not in 0..%d", name, *p, hi)
		}
		return *p, nil
	}
	qos, err := get("qos", b.QoS, 2)
	if err != nil {
		return service.SubscribeRequest{}, err
	}
	nl, err := get("nl", b.NL, 1)
	if err != nil {
		return service.SubscribeRequest{}, err
	}
	rap, err := get("rap", b.RAP, 1)
	if err != nil {
		return service.SubscribeRequest{}, err
	}
	rh, err := get("rh", b.RH, 2)
	if err != nil {
		return service.SubscribeRequest{}, err
	}
	return service.SubscribeRequest{Topic: string(b.Topic), QoS: byte(qos), NoLocal: nl == 1, RAP: rap == 1, RH: byte(rh)}, nil
}

func (a *API) subscribe(w http.ResponseWriter, r *http.Request) error {
	var b SubscribeBody
	if err := api.DecodeJSON(w, r, &b); err != nil {
		return err
	}
	req, err := subscribeRequest(&b)
	if err != nil {
		return err
	}
	subs, err := a.svc.Subscribe(r.Context(), pathParam(r, "clientid"), []service.SubscribeRequest{req})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, subscriptionInfo(&subs[0]))
}

func (a *API) subscribeBulk(w http.ResponseWriter, r *http.Request) error {
	var bs []SubscribeBody
	if err := api.DecodeJSON(w, r, &bs); err != nil {
		return err
	}
	reqs := make([]service.SubscribeRequest, len(bs))
	for i := range bs {
		req, err := subscribeRequest(&bs[i])
		if err != nil {
			return err
		}
		reqs[i] = req
	}
	subs, err := a.svc.Subscribe(r.Context(), pathParam(r, "clientid"), reqs)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, subscriptionInfos(subs))
}

func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	var b UnsubscribeBody
	if err := api.DecodeJSON(w, r, &b); err != nil {
		return err
	}
	if b.Topic == "" {
		return api.BadRequest("topic is required")
	}
	if err := a.svc.Unsubscribe(r.Context(), pathParam(r, "clientid"), []string{string(b.Topic)}); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) unsubscribeBulk(w http.ResponseWriter, r *http.Request) error {
	var bs []UnsubscribeBody
	if err := api.DecodeJSON(w, r, &bs); err != nil {
		return err
	}
	filters := make([]string, 0, len(bs))
	for _, b := range bs {
		if b.Topic != "" {
			filters = append(filters, string(b.Topic))
		}
	}
	if err := a.svc.Unsubscribe(r.Context(), pathParam(r, "clientid"), filters); err != nil {
		return err
	}
	return api.NoContent(w)
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
