package v5

import (
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// TopicInfo is one route: a topic filter subscribed on a node. EMQX adds
// session for durable-session routes; Herald has none, so it is left out
// as EMQX leaves it out for ordinary routes.
type TopicInfo struct {
	Topic string `json:"topic"`
	Node  string `json:"node"`
}

func topicInfo(r *service.Route) TopicInfo { return TopicInfo{Topic: r.Topic, Node: r.Node} }

// TopicsQuery documents GET /topics' parameters.
type TopicsQuery struct {
	Topic TopicFilter `query:"topic" description:"Topic filter, exact"`
	Node  string      `query:"node" description:"Only routes to this node"`
	Page  int         `query:"page" default:"1" minimum:"1" maximum:"2147483647" description:"Page number of the results"`
	Limit int         `query:"limit" default:"100" minimum:"1" maximum:"10000" description:"Results per page"`
}

func (a *API) topicRoutes() []route {
	const tag = "Topics"
	return []route{
		{method: http.MethodGet, path: "/topics", tag: tag, summary: "Topics list",
			query: &TopicsQuery{}, resp: &PagedList[TopicInfo]{}, errs: nodeErrs, example: example{query: kv("topic", "example/#")}, h: a.listTopics},
		{method: http.MethodGet, path: "/topics/{topic...}", tag: tag, summary: "Lookup topic info by name",
			resp: &[]TopicInfo{}, errs: map[int][]string{404: {"TOPIC_NOT_FOUND"}}, example: example{path: kv("topic", "example/#")}, h: a.getTopic},
	}
}

func (a *API) listTopics(w http.ResponseWriter, r *http.Request) error {
	pq, err := api.ParsePage(r, "INVALID_PARAMETER")
	if err != nil {
		return err
	}
	v := r.URL.Query()
	p, err := a.svc.ListTopics(r.Context(), service.TopicQuery{PageQuery: pq, Node: v.Get("node"), Topic: v.Get("topic")})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pagedList(p, topicInfo))
}

func (a *API) getTopic(w http.ResponseWriter, r *http.Request) error {
	rs, err := a.svc.GetTopic(r.Context(), pathParam(r, "topic"))
	if err != nil {
		return err
	}
	out := make([]TopicInfo, len(rs))
	for i := range rs {
		out[i] = topicInfo(&rs[i])
	}
	return api.WriteJSON(w, http.StatusOK, out)
}
