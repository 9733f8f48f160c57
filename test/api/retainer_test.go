package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// apiErr asserts err is an API error with status and code, and pins its
// shape in golden (when not "").
func apiErr(t *testing.T, err error, _ *client.Response, status int, code, golden string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	if golden != "" {
		b, _ := json.Marshal(e) // the envelope as sent: {code, message}
		testutil.GoldenShape(t, golden, b)
	}
	return e
}

// getRaw GETs path and returns the raw body, failing on an error.
func getRaw(t *testing.T, c *client.Client, path string) []byte {
	t.Helper()
	resp, err := c.Do(testutil.Ctx(t), http.MethodGet, path, nil, nil, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.Body
}

func publishRetained(t *testing.T, c *testutil.V5, topic, payload string) {
	t.Helper()
	if _, err := c.Publish(testutil.Ctx(t), &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: 1, Retain: true}); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

func TestRetainerMessages(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	pub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "retainer-pub", CleanStart: true, KeepAlive: 30})
	publishRetained(t, pub, "r/1", "hello")
	publishRetained(t, pub, "r/2", "world")
	publishRetained(t, pub, "other", "x")

	var list client.Page[client.RetainedMessage]
	testutil.Eventually(t, testutil.Timeout, func() (err error) {
		if list, err = c.RetainedMessages(ctx, "", 0, 0); err == nil && len(list.Data) != 3 {
			err = fmt.Errorf("%d retained messages, want 3", len(list.Data))
		}
		return err
	})
	testutil.GoldenShape(t, "retainer_messages.json", getRaw(t, c, "/mqtt/retainer/messages"))
	if m := list.Data[0]; m.Topic != "other" || m.FromClientID != "retainer-pub" || m.QoS != 1 || m.MsgID == "" || m.PublishAt == "" {
		t.Fatalf("first message %+v", m)
	}
	filtered, err := c.RetainedMessages(ctx, "r/+", 1, 1)
	if err != nil || len(filtered.Data) != 1 || filtered.Data[0].Topic != "r/1" || !filtered.Meta.HasNext || *filtered.Meta.Count != 2 {
		t.Fatalf("filtered page: %+v, %v", filtered, err)
	}
	resp, err := c.Do(ctx, http.MethodGet, "/mqtt/retainer/messages", map[string][]string{"topic": {"a/#/b"}}, nil, nil)
	apiErr(t, err, resp, http.StatusBadRequest, "BAD_REQUEST", "")

	m, err := c.RetainedMessage(ctx, "r/1")
	if err != nil || m.Payload != "aGVsbG8=" || m.Topic != "r/1" {
		t.Fatalf("lookup: %+v, %v", m, err)
	}
	testutil.GoldenShape(t, "retainer_message.json", getRaw(t, c, "/mqtt/retainer/message/r%2F1"))

	if err := c.DeleteRetainedMessage(ctx, "r/1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	resp, err = c.Do(ctx, http.MethodGet, "/mqtt/retainer/message/r%2F1", nil, nil, nil)
	apiErr(t, err, resp, http.StatusNotFound, "NOT_FOUND", "retainer_message_404.json")
	resp, err = c.Do(ctx, http.MethodDelete, "/mqtt/retainer/message/r%2F1", nil, nil, nil)
	apiErr(t, err, resp, http.StatusNotFound, "NOT_FOUND", "")

	// A new subscriber gets r/2 only.
	sub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "retainer-sub", CleanStart: true, KeepAlive: 30})
	if _, err := sub.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "r/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if p := sub.Next(t); p.Topic != "r/2" {
		t.Fatalf("retained delivery on %q", p.Topic)
	}
	sub.None(t, 100*time.Millisecond)

	if err := c.DeleteAllRetainedMessages(ctx); err != nil {
		t.Fatalf("delete all: %v", err)
	}
	if list, err = c.RetainedMessages(ctx, "", 0, 0); err != nil || len(list.Data) != 0 || *list.Meta.Count != 0 {
		t.Fatalf("after delete all: %+v, %v", list, err)
	}
}

func TestRetainerConfig(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	cfg, err := c.RetainerConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Enable || cfg.MaxPayloadSize != "1MB" || cfg.MsgExpiryInterval != "0s" || cfg.DeliveryRate != "1000/s" ||
		cfg.Backend.Type != "built_in_database" || cfg.Backend.StorageType != "disc" {
		t.Fatalf("config %+v", cfg)
	}
	testutil.GoldenShape(t, "retainer_config.json", getRaw(t, c, "/mqtt/retainer"))

	for _, body := range []map[string]any{
		{"delivery_rate": "10/s"},
		{"stop_publish_clear_msg": true},
		{"backend": map[string]any{"type": "built_in_database", "storage_type": "ram"}},
		{"msg_expiry_interval": "soon"},
	} {
		resp, err := c.Do(ctx, http.MethodPut, "/mqtt/retainer", nil, body, nil)
		apiErr(t, err, resp, http.StatusBadRequest, "UPDATE_FAILED", "retainer_config_400.json")
	}

	upd := map[string]any{"max_payload_size": "2KB", "msg_expiry_interval": "1h", "msg_clear_interval": "10s",
		"backend": map[string]any{"max_retained_messages": 5}}
	resp, err := c.Do(ctx, http.MethodPut, "/mqtt/retainer", nil, upd, &cfg)
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	testutil.GoldenShape(t, "retainer_config.json", resp.Body)
	if cfg.MaxPayloadSize != "2KB" || cfg.MsgExpiryInterval != "1h" || cfg.MsgClearInterval != "10s" || cfg.Backend.MaxRetainedMessages != 5 {
		t.Fatalf("updated config %+v", cfg)
	}
	// The new max_payload_size applies at once: a 3KB retained message is not retained.
	pub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "big", CleanStart: true, KeepAlive: 30})
	publishRetained(t, pub, "big", string(make([]byte, 3<<10)))
	publishRetained(t, pub, "small", "ok")
	testutil.Eventually(t, testutil.Timeout, func() error {
		_, err := c.RetainedMessage(ctx, "small")
		return err
	})
	if _, err := c.RetainedMessage(ctx, "big"); err == nil {
		t.Fatal("a message over max_payload_size was retained")
	}
}
