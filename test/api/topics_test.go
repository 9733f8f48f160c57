package api

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

func TestTopics(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	node := s.Config.Node.Name
	a := clV5(t, s.TCP(), "tp-a", "", true, 0)
	a.SubscribeOK(t, "t/a", 0)
	a.SubscribeOK(t, "t/+/c", 1)
	b := clV5(t, s.TCP(), "tp-b", "", true, 0)
	b.SubscribeOK(t, "t/a", 1)
	b.SubscribeOK(t, "$share/g/t/a", 1)

	topics := func(p client.Page[client.TopicInfo]) []string {
		out := []string{}
		for _, x := range p.Data {
			if x.Node != node {
				t.Errorf("route %+v on node %q", x, x.Node)
			}
			out = append(out, x.Topic)
		}
		return out
	}
	p, err := c.ListTopics(ctx, client.TopicsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := topics(p); !slices.Equal(got, []string{"t/+/c", "t/a"}) || p.Meta.Count == nil || *p.Meta.Count != 2 {
		t.Errorf("topics %v meta %+v", got, p.Meta)
	}
	p, err = c.ListTopics(ctx, client.TopicsQuery{Topic: "t/a", Node: node})
	if err != nil || !slices.Equal(topics(p), []string{"t/a"}) {
		t.Errorf("topic=t/a: %+v %v", p, err)
	}
	p, err = c.ListTopics(ctx, client.TopicsQuery{Limit: 1})
	if err != nil || len(p.Data) != 1 || !p.Meta.HasNext {
		t.Errorf("limit 1: %+v %v", p, err)
	}
	status, body := clRaw(t, s, http.MethodGet, "/topics", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	testutil.GoldenShape(t, "topics_list.json", body)

	rs, err := c.GetTopic(ctx, "t/+/c")
	if err != nil || len(rs) != 1 || rs[0] != (client.TopicInfo{Topic: "t/+/c", Node: node}) {
		t.Errorf("GET /topics/t%%2F%%2B%%2Fc: %+v %v", rs, err)
	}
	status, body = clRaw(t, s, http.MethodGet, "/topics/t%2Fa", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	testutil.GoldenShape(t, "topics_get.json", body)
	_, err = c.GetTopic(ctx, "no/such")
	clAPIError(t, err, http.StatusNotFound, "TOPIC_NOT_FOUND")
	status, body = clRaw(t, s, http.MethodGet, "/topics", map[string][]string{"page": {"0"}}, nil)
	if status != http.StatusBadRequest {
		t.Errorf("page=0: %d %s", status, body)
	}
}
