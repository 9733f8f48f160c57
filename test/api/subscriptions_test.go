package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// subKeys renders subscriptions as "clientid topic qos" for comparisons.
func subKeys(subs []client.Subscription) []string {
	out := []string{}
	for _, s := range subs {
		out = append(out, s.ClientID+" "+s.Topic+" "+string(rune('0'+s.QoS)))
	}
	return out
}

func TestSubscriptionsThroughAPI(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	sub := clV5(t, s.TCP(), "sub-target", "", true, 0)
	pub := clV5(t, s.TCP(), "sub-pub", "", true, 0)

	got, err := c.Subscribe(ctx, "sub-target", client.SubscribeRequest{Topic: "api/one", QoS: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := (client.Subscription{Node: s.Config.Node.Name, Topic: "api/one", ClientID: "sub-target", QoS: 1}); got != want {
		t.Errorf("subscribe answered %+v, want %+v", got, want)
	}
	if rc := pub.PublishRC(t, "api/one", "hello"); rc != 0 {
		t.Fatalf("PUBACK %#x", rc)
	}
	sub.Expect(t, "api/one", "hello")

	bulk, err := c.SubscribeBulk(ctx, "sub-target", []client.SubscribeRequest{{Topic: "api/two", QoS: 2, RAP: 1}, {Topic: "api/three/#", RH: 2}})
	if err != nil || len(bulk) != 2 || bulk[0].RAP != 1 || bulk[1].RH != 2 {
		t.Fatalf("subscribe bulk: %+v %v", bulk, err)
	}
	list, err := c.ClientSubscriptions(ctx, "sub-target")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := subKeys(list), []string{"sub-target api/one 1", "sub-target api/three/# 0", "sub-target api/two 2"}; !slices.Equal(got, want) {
		t.Errorf("client subscriptions %v, want %v", got, want)
	}
	status, body := clRaw(t, s, http.MethodGet, "/clients/sub-target/subscriptions", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	testutil.GoldenShape(t, "clients_subscriptions.json", body)

	if err := c.Unsubscribe(ctx, "sub-target", "api/one"); err != nil {
		t.Fatal(err)
	}
	if err := c.UnsubscribeBulk(ctx, "sub-target", []string{"api/two", "not/subscribed"}); err != nil {
		t.Fatal(err)
	}
	// Unsubscribed topics no longer deliver: the next message that arrives
	// is the one on the filter that is left.
	pub.PublishRC(t, "api/one", "gone")
	pub.PublishRC(t, "api/two", "gone")
	pub.PublishRC(t, "api/three/x", "kept")
	sub.Expect(t, "api/three/x", "kept")

	// Errors.
	_, err = c.Subscribe(ctx, "nope", client.SubscribeRequest{Topic: "a"})
	clAPIError(t, err, http.StatusNotFound, "CLIENTID_NOT_FOUND")
	clAPIError(t, c.Unsubscribe(ctx, "nope", "a"), http.StatusNotFound, "CLIENTID_NOT_FOUND")
	_, err = c.ClientSubscriptions(ctx, "nope")
	clAPIError(t, err, http.StatusNotFound, "CLIENTID_NOT_FOUND")
	_, err = c.Subscribe(ctx, "sub-target", client.SubscribeRequest{Topic: "a/#/b"})
	clAPIError(t, err, http.StatusBadRequest, "INVALID_PARAMETER")
	_, err = c.Subscribe(ctx, "sub-target", client.SubscribeRequest{Topic: "$share/g/a", NL: 1})
	clAPIError(t, err, http.StatusBadRequest, "INVALID_PARAMETER")
	_, err = c.Subscribe(ctx, "sub-target", client.SubscribeRequest{Topic: "a", QoS: 3})
	clAPIError(t, err, http.StatusBadRequest, "BAD_REQUEST")
}

// TestSubscriptionsOfflineSession subscribes a disconnected persistent
// session; it receives the message when it comes back.
func TestSubscriptionsOfflineSession(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	v := clV5(t, s.TCP(), "sub-offline", "", false, 600)
	if err := v.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		ci, err := c.GetClient(ctx, "sub-offline")
		if err != nil || ci.Connected {
			return err
		}
		return nil
	})
	if _, err := c.Subscribe(ctx, "sub-offline", client.SubscribeRequest{Topic: "later/#", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if _, status, err := c.Publish(ctx, client.PublishMessage{Topic: "later/x", Payload: "kept", QoS: 1}); err != nil || status != http.StatusOK {
		t.Fatalf("publish: %d %v", status, err)
	}
	back := clV5(t, s.TCP(), "sub-offline", "", false, 600)
	back.Expect(t, "later/x", "kept")
}

func TestSubscriptionsList(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	a := clV5(t, s.TCP(), "sl-a", "", true, 0)
	a.SubscribeOK(t, "s/a", 0)
	a.SubscribeOK(t, "s/+", 1)
	b := clV5(t, s.TCP(), "sl-b", "", true, 0)
	b.SubscribeOK(t, "$share/g1/s/a", 2)
	b.SubscribeOK(t, "x/y", 1)

	expect := func(name string, q client.SubscriptionsQuery, counted bool, want ...string) {
		t.Helper()
		p, err := c.ListSubscriptions(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := subKeys(p.Data); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		if counted != (p.Meta.Count != nil) || (counted && *p.Meta.Count != len(want)) {
			t.Errorf("%s: meta %+v", name, p.Meta)
		}
	}
	qos1 := 1
	expect("all", client.SubscriptionsQuery{}, true, "sl-a s/+ 1", "sl-a s/a 0", "sl-b $share/g1/s/a 2", "sl-b x/y 1")
	expect("clientid", client.SubscriptionsQuery{ClientID: "sl-b"}, true, "sl-b $share/g1/s/a 2", "sl-b x/y 1")
	expect("qos", client.SubscriptionsQuery{QoS: &qos1}, true, "sl-a s/+ 1", "sl-b x/y 1")
	expect("topic", client.SubscriptionsQuery{Topic: "s/a"}, true, "sl-a s/a 0", "sl-b $share/g1/s/a 2")
	expect("shared topic", client.SubscriptionsQuery{Topic: "$share/g1/s/a"}, true, "sl-b $share/g1/s/a 2")
	expect("share_group", client.SubscriptionsQuery{ShareGroup: "g1"}, true, "sl-b $share/g1/s/a 2")
	expect("match_topic", client.SubscriptionsQuery{MatchTopic: "s/#"}, false, "sl-a s/+ 1", "sl-a s/a 0", "sl-b $share/g1/s/a 2")
	expect("node", client.SubscriptionsQuery{Node: s.Config.Node.Name, ClientID: "sl-a"}, true, "sl-a s/+ 1", "sl-a s/a 0")

	p, err := c.ListSubscriptions(ctx, client.SubscriptionsQuery{Limit: 3})
	if err != nil || !p.Meta.HasNext || len(p.Data) != 3 {
		t.Errorf("limit 3: %+v %v", p, err)
	}
	status, body := clRaw(t, s, http.MethodGet, "/subscriptions", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	testutil.GoldenShape(t, "subscriptions_list.json", body)
	for _, q := range []url.Values{{"match_topic": {"$share/g1/s/#"}}, {"qos": {"3"}}, {"page": {"0"}}, {"limit": {"x"}}} {
		status, body := clRaw(t, s, http.MethodGet, "/subscriptions", q, nil)
		var e client.Error
		if err := json.Unmarshal(body, &e); status != http.StatusBadRequest || err != nil || e.Code != "INVALID_PARAMETER" {
			t.Errorf("%v: %d %s", q, status, body)
		}
		if q.Has("match_topic") {
			testutil.GoldenShape(t, "subscriptions_error_invalid_parameter.json", body)
		}
	}
}
