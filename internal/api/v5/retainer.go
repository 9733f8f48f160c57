package v5

import (
	"encoding/base64"
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// RetainedQuery is GET /mqtt/retainer/messages's query.
type RetainedQuery struct {
	Page  int                `query:"page" description:"Page number of the results to fetch." default:"1" minimum:"1" maximum:"2147483647"`
	Limit int                `query:"limit" description:"Results per page (max 10000)." default:"100" minimum:"1" maximum:"10000"`
	Topic TopicFilterNoShare `query:"topic" description:"Topic filter; only retained messages matching it are listed."`
}

// RetainedNamePath is GET /mqtt/retainer/message/{topic}'s path: a topic
// name.
type RetainedNamePath struct {
	Topic TopicName `path:"topic"`
}

// RetainedFilterPath is DELETE /mqtt/retainer/message/{topic}'s path: a
// topic name or a (non-shared) filter.
type RetainedFilterPath struct {
	Topic TopicFilterNoShare `path:"topic"`
}

// RetainedMessageJSON is one retained message in a list.
type RetainedMessageJSON struct {
	MsgID        string  `json:"msgid"`
	Topic        string  `json:"topic"`
	QoS          byte    `json:"qos"`
	PublishAt    *string `json:"publish_at"`
	FromClientID string  `json:"from_clientid"`
	FromUsername string  `json:"from_username"`
}

// RetainedMessageFull is a looked-up retained message: the payload is
// base64.
type RetainedMessageFull struct {
	Payload string `json:"payload"`
	RetainedMessageJSON
}

// RetainerConfigJSON is the retainer configuration.
type RetainerConfigJSON struct {
	Enable              bool                `json:"enable"`
	MsgExpiryInterval   string              `json:"msg_expiry_interval"`
	MsgClearInterval    string              `json:"msg_clear_interval"`
	MaxPayloadSize      string              `json:"max_payload_size"`
	StopPublishClearMsg bool                `json:"stop_publish_clear_msg"`
	DeliveryRate        string              `json:"delivery_rate"`
	Backend             RetainerBackendJSON `json:"backend"`
}

// RetainerBackendJSON is the retainer's storage.
type RetainerBackendJSON struct {
	Type                string  `json:"type" enum:"built_in_database"`
	StorageType         string  `json:"storage_type" enum:"ram,disc"`
	MaxRetainedMessages int     `json:"max_retained_messages"`
	IndexSpecs          [][]int `json:"index_specs"`
}

// RetainerConfigRequest is PUT /mqtt/retainer's body; absent fields are
// left as they are.
type RetainerConfigRequest struct {
	Enable              *bool                   `json:"enable,omitempty"`
	MsgExpiryInterval   *string                 `json:"msg_expiry_interval,omitempty" pattern:"^(0|([0-9]{1,3}(ms|s|m|h|d|w)){1,3})$" description:"a duration: 0 (never), 30s, 1h, 1h30m"`
	MsgClearInterval    *string                 `json:"msg_clear_interval,omitempty" pattern:"^(0|([0-9]{1,3}(ms|s|m|h|d|w)){1,3})$" description:"a duration: 0 (never), 30s, 1h, 1h30m"`
	MaxPayloadSize      *string                 `json:"max_payload_size,omitempty" pattern:"^([0-9]{1,8}[Bb]?|[0-9]{1,5}[Kk][Bb]|(25[0-6]|2[0-4][0-9]|1[0-9]{2}|[0-9]{1,2})[Mm][Bb])$" description:"a size up to 256MB (mqtt.max_packet_size's bound): 1MB, 512KB, 1024"`
	StopPublishClearMsg *FalseOnly              `json:"stop_publish_clear_msg,omitempty"`
	DeliveryRate        *string                 `json:"delivery_rate,omitempty" enum:"1000/s" description:"not configurable"`
	Backend             *RetainerBackendRequest `json:"backend,omitempty"`
}

// IndexSpecs are the retainer's topic indexes: lists of topic level
// numbers (accepted and ignored: Herald matches retained messages in its
// topic trie).
type IndexSpecs [][]int

// JSONSchema bounds the level numbers.
func (IndexSpecs) JSONSchema() (jsonschema.Schema, error) {
	var spec, out jsonschema.Schema
	spec.AddType(jsonschema.Array)
	spec.WithItems(*(&jsonschema.Items{}).WithSchemaOrBool(schemaInteger(1, maxInt32).ToSchemaOrBool()))
	out.AddType(jsonschema.Array)
	out.WithItems(*(&jsonschema.Items{}).WithSchemaOrBool(spec.ToSchemaOrBool()))
	return out, nil
}

// RetainerBackendRequest is the backend part of a PUT.
type RetainerBackendRequest struct {
	Type                *string    `json:"type,omitempty" enum:"built_in_database"`
	StorageType         *string    `json:"storage_type,omitempty" enum:"ram,disc" description:"follows durability: disc with durability = sync, else ram"`
	MaxRetainedMessages *int       `json:"max_retained_messages,omitempty" minimum:"0" maximum:"2147483647"`
	IndexSpecs          IndexSpecs `json:"index_specs,omitempty"`
}

func (a *API) retainerRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/mqtt/retainer/messages", tag: "Retainer", summary: "List retained messages.",
			query: &RetainedQuery{}, resp: &PagedList[RetainedMessageJSON]{}, example: example{query: kv("topic", "example/#", "limit", "10")}, h: a.listRetained},
		{method: http.MethodDelete, path: "/mqtt/retainer/messages", tag: "Retainer", summary: "Delete all retained messages",
			status: http.StatusNoContent, h: a.clearRetained},
		{method: http.MethodGet, path: "/mqtt/retainer/message/{topic...}", tag: "Retainer",
			summary: "Lookup a message by a topic without wildcards.", resp: &RetainedMessageFull{}, pathParams: &RetainedNamePath{}, example: example{path: kv("topic", exampleRetained)}, h: a.lookupRetained},
		{method: http.MethodDelete, path: "/mqtt/retainer/message/{topic...}", tag: "Retainer",
			summary: "Delete matching messages.", status: http.StatusNoContent, pathParams: &RetainedFilterPath{}, example: example{path: kv("topic", exampleRetained)}, h: a.deleteRetained},
		{method: http.MethodGet, path: "/mqtt/retainer", tag: "Retainer", summary: "View config",
			resp: &RetainerConfigJSON{}, h: a.getRetainerConfig},
		{method: http.MethodPut, path: "/mqtt/retainer", tag: "Retainer", summary: "Update retainer config.",
			body: &RetainerConfigRequest{}, resp: &RetainerConfigJSON{}, fieldCodes: map[string]string{"": "UPDATE_FAILED"}, example: example{body: obj{"max_payload_size": "1MB", "msg_expiry_interval": "0"}}, h: a.putRetainerConfig},
	}
}

func (a *API) listRetained(w http.ResponseWriter, r *http.Request) error {
	q, err := api.ParsePage(r, "BAD_REQUEST")
	if err != nil {
		return err
	}
	p, err := a.svc.ListRetained(r.Context(), r.URL.Query().Get("topic"), q)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pagedList(p, retainedJSON))
}

func retainedJSON(m *service.RetainedMessage) RetainedMessageJSON {
	return RetainedMessageJSON{MsgID: m.MsgID, Topic: m.Topic, QoS: m.QoS, PublishAt: api.FormatTime(m.PublishAt),
		FromClientID: m.FromClientID, FromUsername: m.FromUsername}
}

func (a *API) lookupRetained(w http.ResponseWriter, r *http.Request) error {
	m, err := a.svc.LookupRetained(r.Context(), pathParam(r, "topic"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, RetainedMessageFull{Payload: base64.StdEncoding.EncodeToString(m.Payload),
		RetainedMessageJSON: retainedJSON(&m)})
}

func (a *API) deleteRetained(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteRetained(r.Context(), pathParam(r, "topic")); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) clearRetained(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.ClearRetained(r.Context()); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) getRetainerConfig(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.RetainerConfig(r.Context())
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, retainerConfigJSON(c))
}

func (a *API) putRetainerConfig(w http.ResponseWriter, r *http.Request) error {
	var req RetainerConfigRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	u := service.RetainerConfigUpdate{Enable: req.Enable, MsgExpiryInterval: req.MsgExpiryInterval,
		MsgClearInterval: req.MsgClearInterval, MaxPayloadSize: req.MaxPayloadSize,
		StopPublishClearMsg: (*bool)(req.StopPublishClearMsg), DeliveryRate: req.DeliveryRate}
	if b := req.Backend; b != nil {
		u.Backend = &service.RetainerBackendUpdate{Type: b.Type, StorageType: b.StorageType,
			MaxRetainedMessages: b.MaxRetainedMessages, IndexSpecs: b.IndexSpecs}
	}
	c, err := a.svc.UpdateRetainerConfig(r.Context(), u)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, retainerConfigJSON(c))
}

func retainerConfigJSON(c service.RetainerConfig) RetainerConfigJSON {
	return RetainerConfigJSON{Enable: c.Enable, MsgExpiryInterval: c.MsgExpiryInterval, MsgClearInterval: c.MsgClearInterval,
		MaxPayloadSize: c.MaxPayloadSize, StopPublishClearMsg: c.StopPublishClearMsg, DeliveryRate: c.DeliveryRate,
		Backend: RetainerBackendJSON{Type: c.Backend.Type, StorageType: c.Backend.StorageType,
			MaxRetainedMessages: c.Backend.MaxRetainedMessages, IndexSpecs: c.Backend.IndexSpecs}}
}
