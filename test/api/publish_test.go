package api

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

var msgIDRe = regexp.MustCompile(`^[0-9A-F]{32}$`)

func TestPublish(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	sub := clV5(t, s.TCP(), "pb-sub", "", true, 0)
	sub.SubscribeOK(t, "pb/#", 1)
	v3 := clV3(t, s.TCP(), "pb-v3", "", true)
	testutil.Wait(t, v3.Subscribe("pb/v3", 0, nil))

	fmtInd, expiry := 1, int64(60)
	res, status, err := c.Publish(ctx, client.PublishMessage{Topic: "pb/one", Payload: "hello", QoS: 1,
		Properties: &client.MessageProperties{PayloadFormatIndicator: &fmtInd, MessageExpiryInterval: &expiry,
			ResponseTopic: "pb/reply", CorrelationData: "corr", ContentType: "text/plain",
			UserProperties: map[string]string{"k": "v"}}})
	if err != nil || status != http.StatusOK || !msgIDRe.MatchString(res.ID) {
		t.Fatalf("publish: %+v %d %v", res, status, err)
	}
	m := sub.Next(t)
	p := m.Properties
	switch {
	case m.Topic != "pb/one" || string(m.Payload) != "hello" || m.QoS != 1:
		t.Errorf("received %q %q qos %d", m.Topic, m.Payload, m.QoS)
	case p == nil || p.ContentType != "text/plain" || p.ResponseTopic != "pb/reply" || string(p.CorrelationData) != "corr":
		t.Errorf("properties %+v", p)
	case p.PayloadFormat == nil || *p.PayloadFormat != 1 || p.MessageExpiry == nil || *p.MessageExpiry == 0 || *p.MessageExpiry > 60:
		t.Errorf("payload format %v expiry %v", p.PayloadFormat, p.MessageExpiry)
	case p.User.Get("k") != "v":
		t.Errorf("user properties %v", p.User)
	}

	// base64 payload, to a 3.1.1 subscriber.
	if _, status, err := c.Publish(ctx, client.PublishMessage{Topic: "pb/v3", Payload: "AAEC", PayloadEncoding: "base64"}); err != nil || status != http.StatusOK {
		t.Fatalf("base64 publish: %d %v", status, err)
	}
	if got := v3.Next(t).Payload(); string(got) != "\x00\x01\x02" {
		t.Errorf("base64 payload arrived as %q", got)
	}
	sub.Expect(t, "pb/v3", "\x00\x01\x02")

	// Nobody subscribed: 202 and reason 16.
	res, status, err = c.Publish(ctx, client.PublishMessage{Topic: "nobody/here", Payload: "x"})
	if err != nil || status != http.StatusAccepted || res.ReasonCode != 16 || res.Message != "no_matching_subscribers" {
		t.Fatalf("no subscriber: %+v %d %v", res, status, err)
	}

	st, body := clRaw(t, s, http.MethodPost, "/publish", nil, client.PublishMessage{Topic: "pb/shape", Payload: "x"})
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	testutil.GoldenShape(t, "publish_ok.json", body)
	sub.Expect(t, "pb/shape", "x")
	st, body = clRaw(t, s, http.MethodPost, "/publish", nil, client.PublishMessage{Topic: "nobody", Payload: "x"})
	if st != http.StatusAccepted {
		t.Fatalf("%d %s", st, body)
	}
	testutil.GoldenShape(t, "publish_no_subscribers.json", body)

	// Refused messages: 400 with EMQX's reason code and the API's code.
	for _, bad := range []struct {
		body any
		code string
		rc   int
	}{
		{client.PublishMessage{Topic: "a/+", Payload: "x"}, "BAD_TOPIC", 144},
		{client.PublishMessage{Topic: "a/#", Payload: "x"}, "BAD_TOPIC", 144},
		{map[string]any{"topic": "", "payload": "x"}, "BAD_TOPIC", 144},
		{map[string]any{"topic": "a"}, "BAD_REQUEST", 131},
		{client.PublishMessage{Topic: "a", Payload: "x", QoS: 3}, "BAD_REQUEST", 131},
		{client.PublishMessage{Topic: "a", Payload: "!!", PayloadEncoding: "base64"}, "BAD_REQUEST", 131},
	} {
		st, body := clRaw(t, s, http.MethodPost, "/publish", nil, bad.body)
		var e struct {
			Code       string `json:"code"`
			ReasonCode int    `json:"reason_code"`
		}
		if err := json.Unmarshal(body, &e); st != http.StatusBadRequest || err != nil || e.Code != bad.code || e.ReasonCode != bad.rc {
			t.Errorf("%+v: %d %s", bad.body, st, body)
		}
		if bad.code == "BAD_TOPIC" {
			testutil.GoldenShape(t, "publish_error_bad_topic.json", body)
		}
	}
}

func TestPublishBulk(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	sub := clV5(t, s.TCP(), "pbb-sub", "", true, 0)
	sub.SubscribeOK(t, "bulk/#", 1)

	res, status, err := c.PublishBulk(ctx, []client.PublishMessage{{Topic: "bulk/1", Payload: "a", QoS: 1}, {Topic: "bulk/2", Payload: "b"}})
	if err != nil || status != http.StatusOK || len(res) != 2 || !msgIDRe.MatchString(res[0].ID) || res[0].ID == res[1].ID {
		t.Fatalf("all delivered: %+v %d %v", res, status, err)
	}
	sub.Expect(t, "bulk/1", "a")
	sub.Expect(t, "bulk/2", "b")

	res, status, err = c.PublishBulk(ctx, []client.PublishMessage{{Topic: "bulk/3", Payload: "c"}, {Topic: "elsewhere", Payload: "d"}})
	if err != nil || status != http.StatusAccepted || len(res) != 2 || res[0].ID == "" || res[1].ReasonCode != 16 {
		t.Fatalf("partly delivered: %+v %d %v", res, status, err)
	}
	sub.Expect(t, "bulk/3", "c")
	st, body := clRaw(t, s, http.MethodPost, "/publish/bulk", nil, []client.PublishMessage{{Topic: "bulk/4", Payload: "e"}, {Topic: "none", Payload: "f"}})
	if st != http.StatusAccepted {
		t.Fatalf("%d %s", st, body)
	}
	testutil.GoldenShape(t, "publish_bulk_partial.json", body)
	sub.Expect(t, "bulk/4", "e")

	// One bad message refuses the whole batch: nothing is published.
	st, body = clRaw(t, s, http.MethodPost, "/publish/bulk", nil, []client.PublishMessage{{Topic: "bulk/5", Payload: "g"}, {Topic: "bad/#", Payload: "h"}})
	if st != http.StatusBadRequest {
		t.Fatalf("bad batch: %d %s", st, body)
	}
	st, body = clRaw(t, s, http.MethodPost, "/publish/bulk", nil, []client.PublishMessage{})
	if st != http.StatusBadRequest {
		t.Fatalf("empty batch: %d %s", st, body)
	}
	if _, _, err := c.PublishBulk(ctx, []client.PublishMessage{{Topic: "bulk/6", Payload: "i"}}); err != nil {
		t.Fatal(err)
	}
	sub.Expect(t, "bulk/6", "i") // not bulk/5
}

// TestPublishWithPublisherKey publishes with an API key of role publisher,
// which may publish and nothing else.
func TestPublishWithPublisherKey(t *testing.T) {
	s := testutil.RunServer(t)
	admin, ctx := s.API(t), context.Background()
	role := "publisher"
	k, err := admin.CreateAPIKey(ctx, client.APIKeyRequest{Name: "pb-key", Role: &role})
	if err != nil {
		t.Fatal(err)
	}
	pub := client.New(s.APIURL(), client.WithAPIKey(k.APIKey, k.APISecret))
	sub := clV5(t, s.TCP(), "pbk-sub", "", true, 0)
	sub.SubscribeOK(t, "key/#", 0)
	if _, status, err := pub.Publish(ctx, client.PublishMessage{Topic: "key/1", Payload: "by key"}); err != nil || status != http.StatusOK {
		t.Fatalf("publisher publish: %d %v", status, err)
	}
	sub.Expect(t, "key/1", "by key")
	if _, status, err := pub.PublishBulk(ctx, []client.PublishMessage{{Topic: "key/2", Payload: "bulk"}}); err != nil || status != http.StatusOK {
		t.Fatalf("publisher bulk: %d %v", status, err)
	}
	sub.Expect(t, "key/2", "bulk")
	_, err = pub.ListClients(ctx, client.ClientsQuery{})
	clAPIError(t, err, http.StatusForbidden, "UNAUTHORIZED_ROLE")
}
