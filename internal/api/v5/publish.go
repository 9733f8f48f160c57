package v5

import (
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// PublishBody is one message of POST /publish and /publish/bulk.
type PublishBody struct {
	Topic           TopicName          `json:"topic" required:"true"`
	Payload         *string            `json:"payload" required:"true" nullable:"false" description:"with payload_encoding base64, standard base64"`
	PayloadEncoding string             `json:"payload_encoding,omitempty" enum:"plain,base64" default:"plain"`
	QoS             int                `json:"qos,omitempty" minimum:"0" maximum:"2"`
	ClientID        string             `json:"clientid,omitempty"`
	Retain          bool               `json:"retain,omitempty"`
	Properties      *MessageProperties `json:"properties,omitempty"`
}

// MessageProperties are the MQTT 5 properties of a published message.
type MessageProperties struct {
	PayloadFormatIndicator *int              `json:"payload_format_indicator,omitempty" minimum:"0" maximum:"1"`
	MessageExpiryInterval  *int64            `json:"message_expiry_interval,omitempty" minimum:"0" maximum:"4294967295"`
	ResponseTopic          string            `json:"response_topic,omitempty"`
	CorrelationData        string            `json:"correlation_data,omitempty"`
	UserProperties         map[string]string `json:"user_properties,omitempty"`
	ContentType            string            `json:"content_type,omitempty"`
}

// PrepareJSONSchema adds the rule payload_encoding sets: with base64, the
// payload is standard base64 (padded).
func (PublishBody) PrepareJSONSchema(s *jsonschema.Schema) error {
	plain, b64 := stringEnum("", "plain"), stringEnum("", "base64")
	var asPlain, asBase64 jsonschema.Schema
	asPlain.WithProperties(map[string]jsonschema.SchemaOrBool{"payload_encoding": plain.ToSchemaOrBool()})
	payload := schemaString().WithPattern(`^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`)
	asBase64.WithRequired("payload_encoding").WithProperties(map[string]jsonschema.SchemaOrBool{
		"payload_encoding": b64.ToSchemaOrBool(), "payload": payload.ToSchemaOrBool()})
	s.WithOneOf(asPlain.ToSchemaOrBool(), asBase64.ToSchemaOrBool())
	return nil
}

// PublishBulkBody is POST /publish/bulk's body: at least one message.
type PublishBulkBody []PublishBody

// PrepareJSONSchema asks for one message at least (EMQX's empty_batch).
func (PublishBulkBody) PrepareJSONSchema(s *jsonschema.Schema) error {
	s.WithMinItems(1)
	return nil
}

// PublishOK is the answer for a message that reached a subscriber.
type PublishOK struct {
	ID string `json:"id" required:"true"`
}

// PublishFailure is the answer for a message that reached none (202,
// reason 16) or could not be dispatched (503), and the body of a 400.
// Code is Herald's addition on 400s, so the body is also the API's usual
// {code, message} envelope.
type PublishFailure struct {
	Code       string `json:"code,omitempty"`
	ReasonCode int    `json:"reason_code" required:"true"`
	Message    string `json:"message" required:"true"`
}

// PublishReply documents one answer of POST /publish/bulk: PublishOK or
// PublishFailure.
type PublishReply struct{}

// JSONSchema is the one of the two.
func (PublishReply) JSONSchema() (jsonschema.Schema, error) {
	ok, fail := schemaFor(&PublishOK{}), schemaFor(&PublishFailure{})
	var out jsonschema.Schema
	out.WithOneOf(ok.ToSchemaOrBool(), fail.ToSchemaOrBool())
	return out, nil
}

func (a *API) publishRoutes() []route {
	const tag = "Publish"
	return []route{
		{method: http.MethodPost, path: "/publish", tag: tag, summary: "Publish a message", publisher: true,
			body: &PublishBody{}, resp: &PublishOK{}, errs: publishErrs, also: map[int]any{http.StatusAccepted: &PublishFailure{}, http.StatusServiceUnavailable: &PublishFailure{}},
			example: example{body: obj{"topic": "example/hello", "payload": "hello", "qos": 1}}, h: a.publish},
		{method: http.MethodPost, path: "/publish/bulk", tag: tag, summary: "Publish a batch of messages", publisher: true,
			body: &PublishBulkBody{}, resp: &[]PublishOK{}, errs: publishErrs, also: map[int]any{http.StatusAccepted: &[]PublishReply{}, http.StatusServiceUnavailable: &[]PublishReply{}},
			example: example{body: []any{obj{"topic": "example/a", "payload": "aGVsbG8=", "payload_encoding": "base64"}}}, h: a.publishBulk},
	}
}

func (a *API) publish(w http.ResponseWriter, r *http.Request) error {
	var b PublishBody
	if err := api.DecodeJSON(w, r, &b); err != nil {
		return writePublishError(w, publishDecodeError(err))
	}
	req, err := publishRequest(&b)
	if err != nil {
		return writePublishError(w, err)
	}
	res, err := a.svc.Publish(r.Context(), req)
	if err != nil {
		return writePublishError(w, err)
	}
	status, body := publishReply(res)
	return api.WriteJSON(w, status, body)
}

func (a *API) publishBulk(w http.ResponseWriter, r *http.Request) error {
	var bs PublishBulkBody
	if err := api.DecodeJSON(w, r, &bs); err != nil {
		return writePublishError(w, publishDecodeError(err))
	}
	reqs := make([]service.PublishRequest, len(bs))
	for i := range bs {
		req, err := publishRequest(&bs[i])
		if err != nil {
			return writePublishError(w, err)
		}
		reqs[i] = req
	}
	res, err := a.svc.PublishBulk(r.Context(), reqs)
	if err != nil {
		return writePublishError(w, err)
	}
	// 200 when all were delivered, 503 when any failed, else 202 (EMQX).
	status, out := http.StatusOK, make([]any, len(res))
	for i, x := range res {
		s, body := publishReply(x)
		out[i] = body
		switch {
		case s == http.StatusServiceUnavailable:
			status = s
		case s == http.StatusAccepted && status == http.StatusOK:
			status = s
		}
	}
	return api.WriteJSON(w, status, out)
}

// publishReply maps a result to EMQX's status and body.
func publishReply(res service.PublishResult) (int, any) {
	switch res.Outcome {
	case service.NoSubscribers:
		return http.StatusAccepted, PublishFailure{ReasonCode: service.RCNoMatchingSubscribers, Message: service.ReasonNoMatchingSubscriber}
	case service.DispatchFailed:
		return http.StatusServiceUnavailable, PublishFailure{ReasonCode: service.RCImplementationSpecific, Message: service.ReasonFailedToDispatch}
	}
	return http.StatusOK, PublishOK{ID: res.ID}
}

// writePublishError renders a refused message as EMQX does (400 with the
// MQTT reason code), plus the code of the usual error envelope. Other
// errors go to the common error writer.
func writePublishError(w http.ResponseWriter, err error) error {
	var pe *service.PublishError
	if !errors.As(err, &pe) {
		return err
	}
	return api.WriteJSON(w, http.StatusBadRequest, PublishFailure{Code: pe.Err.Code, ReasonCode: int(pe.ReasonCode), Message: pe.Err.Msg})
}

// publishDecodeError gives a body the decoder refused EMQX's publish
// answer: a bad topic is BAD_TOPIC with reason 144 (topic name invalid),
// anything else BAD_REQUEST with reason 131.
func publishDecodeError(err error) error {
	var e *api.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		return err
	}
	code, rc := e.Code, byte(service.RCImplementationSpecific)
	if e.Leaf() == "topic" {
		code, rc = "BAD_TOPIC", service.RCTopicNameInvalid
	}
	return &service.PublishError{Err: &service.Error{Kind: service.ErrBadRequest, Code: code, Msg: e.Message}, ReasonCode: rc}
}

// publishRequest checks one body against EMQX's schema and decodes the
// payload.
func publishRequest(b *PublishBody) (service.PublishRequest, error) {
	bad := func(msg string) error {
		return &service.PublishError{Err: &service.Error{Kind: service.ErrBadRequest, Code: "BAD_REQUEST", Msg: msg},
			ReasonCode: service.RCImplementationSpecific}
	}
	if b.Topic == "" {
		return service.PublishRequest{}, &service.PublishError{ReasonCode: service.RCTopicNameInvalid,
			Err: &service.Error{Kind: service.ErrBadRequest, Code: "BAD_TOPIC", Msg: "topic_name_invalid"}}
	}
	if b.Payload == nil {
		return service.PublishRequest{}, bad("payload is required")
	}
	if b.QoS < 0 || b.QoS > 2 {
		return service.PublishRequest{}, bad("qos must be 0, 1 or 2")
	}
	payload := []byte(*b.Payload)
	switch b.PayloadEncoding {
	case "", "plain":
	case "base64":
		p, err := base64.StdEncoding.DecodeString(*b.Payload)
		if err != nil {
			return service.PublishRequest{}, bad("decode_base64_payload_failed")
		}
		payload = p
	default:
		return service.PublishRequest{}, bad("payload_encoding must be plain or base64")
	}
	req := service.PublishRequest{Topic: string(b.Topic), Payload: payload, QoS: byte(b.QoS), Retain: b.Retain, ClientID: b.ClientID}
	if p := b.Properties; p != nil {
		if err := messageProps(p, &req.Props); err != nil {
			return service.PublishRequest{}, bad(err.Error())
		}
	}
	return req, nil
}

func messageProps(p *MessageProperties, out *service.PublishProperties) error {
	if v := p.PayloadFormatIndicator; v != nil {
		if *v < 0 || *v > 1 {
			return errors.New("payload_format_indicator must be 0 or 1")
		}
		x := byte(*v)
		out.PayloadFormatIndicator = &x
	}
	if v := p.MessageExpiryInterval; v != nil {
		if *v < 0 || *v > 1<<32-1 {
			return errors.New("message_expiry_interval must be 0..4294967295 seconds")
		}
		x := uint32(*v)
		out.MessageExpiryInterval = &x
	}
	out.ResponseTopic, out.CorrelationData, out.ContentType = p.ResponseTopic, p.CorrelationData, p.ContentType
	out.UserProperties = p.UserProperties
	return nil
}
