package broker

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
	"golang.org/x/time/rate"
)

// authExchange is an MQTT 5 enhanced authentication in progress.
type authExchange struct {
	connect *packet.Connect // the CONNECT, kept until the exchange succeeds
	method  string
	req     AuthRequest
	state   any
}

// errRefused ends a connection whose CONNECT was refused.
var errRefused = errors.New("connect refused")

// handleHandshake handles packets before the connection is established: the
// first packet must be CONNECT [MQTT-3.1.0-1], then AUTH packets of an
// enhanced authentication exchange.
func (c *client) handleHandshake(fh packet.FixedHeader, body []byte) error {
	switch {
	case fh.Type == packet.CONNECT && c.version == 0:
		return c.handleConnect(fh, body)
	case fh.Type == packet.AUTH && c.auth != nil:
		return c.continueAuth(fh, body)
	}
	c.logRefused(packet.ProtocolError, errors.New("first packet is "+fh.Type.String()+", not CONNECT"))
	return errRefused // not a CONNECT: close without a response [MQTT-3.1.0-1]
}

func (c *client) handleConnect(fh packet.FixedHeader, body []byte) error {
	c.w.tally.inc(MPacketsConnectReceived)
	c.w.tally.inc(MClientConnect)
	var p packet.Connect
	if err := packet.DecodeConnect(fh, body, &p); err != nil {
		c.version = p.ProtocolVersion
		return c.refuse(reasonOf(err), err)
	}
	c.version = p.ProtocolVersion
	c.info.ProtocolVersion = p.ProtocolVersion
	c.info.ClientID, c.info.Username = p.ClientID, p.Username
	c.applyPeerCert()
	if rc := c.checkClientID(&p); rc != packet.Success {
		return c.refuse(rc, errors.New("client identifier not valid"))
	}
	for _, h := range c.b.hooks.load().connect {
		if err := h.OnConnect(&c.info, &p); err != nil {
			return c.refuse(reasonOf(err), err)
		}
	}
	return c.authenticate(&p)
}

// refuse logs a refused CONNECT and answers it (see answerRefused).
func (c *client) refuse(rc packet.ReasonCode, cause error) error {
	c.logRefused(rc, cause)
	return c.answerRefused(rc, cause)
}

// answerRefused answers a refused CONNECT: a CONNACK with rc (translated
// for v3; none for a malformed v3 CONNECT), then the connection closes.
func (c *client) answerRefused(rc packet.ReasonCode, cause error) error {
	v := c.version
	if v != packet.V5 {
		if rc == packet.MalformedPacket || rc == packet.ProtocolError {
			return errors.Join(errRefused, cause)
		}
		rc = packet.V3ConnackCode(rc)
		if v != packet.V31 && v != packet.V311 {
			v = packet.V311 // unknown level: answer 0x01 in 3.1.1 form [MQTT-3.1.2-2]
		}
	}
	ack := &packet.Connack{ReasonCode: rc}
	if v == packet.V5 && cause != nil {
		ack.Props.ReasonString = []byte(closeReason(cause))
		ack.Props.Set(packet.PropReasonString)
	}
	if buf, err := ack.Append(nil, v); err == nil {
		c.lingers = c.writeDirect(buf)
	}
	c.b.metrics.Inc(MPacketsConnackSent)
	c.b.metrics.Inc(MPacketsSent)
	c.b.metrics.Inc(MPacketsConnackError)
	if rc == packet.BadUsernameOrPassword || rc == packet.NotAuthorized || rc == packet.V3BadUsernameOrPassword || rc == packet.V3NotAuthorized {
		c.b.metrics.Inc(MPacketsConnackAuthError)
	}
	for _, h := range c.b.hooks.load().connack {
		h.OnConnack(&c.info, rc)
	}
	return errors.Join(errRefused, cause)
}

// checkClientID applies the client identifier rules [MQTT-3.1.3-5 .. 3.1.3-8]
// and assigns one to an empty id where the protocol allows it.
func (c *client) checkClientID(p *packet.Connect) packet.ReasonCode {
	id := c.info.ClientID
	if len(id) > c.b.conf().MaxClientIDLen {
		return packet.ClientIdentifierNotValid
	}
	if id != "" {
		return packet.Success
	}
	switch {
	case c.version == packet.V5:
	case c.version == packet.V311 && p.CleanStart:
	default:
		return packet.ClientIdentifierNotValid // [MQTT-3.1.3-8]; 3.1 requires an id
	}
	c.info.ClientID = assignClientID()
	c.assigned = true
	return packet.Success
}

func assignClientID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "herald-" + hex.EncodeToString(b[:])
}

// serverKeepAlive is the Server Keep Alive of a v5 CONNACK whose CONNECT
// asked for keep alive asked, 0 for none: mqtt.server_keepalive when set,
// else mqtt.max_keepalive when the client asked for more, or for 0
// (no keep alive at all). The client must then use it [MQTT-3.2.2-21].
// A 3.1.1 or 3.1 client cannot be told another keep alive, so it keeps its
// own: refusing it (as newer mosquitto releases do) would cut off every 3.x
// client that asks for none, and Debian's mosquitto 2.0.11 and EMQX accept
// them too. Dead 3.x peers are still found by TCP keep-alive.
func serverKeepAlive(cfg *Config, asked uint16) uint16 {
	switch {
	case cfg.ServerKeepAlive > 0:
		return cfg.ServerKeepAlive
	case cfg.MaxKeepAlive > 0 && (asked == 0 || asked > cfg.MaxKeepAlive):
		return cfg.MaxKeepAlive
	}
	return 0
}

// applyPeerCert sets the username and/or client id from the TLS client
// certificate (mqtt.peer_cert_as_username / peer_cert_as_clientid).
func (c *client) applyPeerCert() {
	if c.meta.TLS == nil || len(c.meta.TLS.PeerCertificates) == 0 {
		return
	}
	cert := c.meta.TLS.PeerCertificates[0]
	c.info.CertCN, c.info.CertSubject = cert.Subject.CommonName, cert.Subject.String()
	field := func(kind string) string {
		switch kind {
		case "cn":
			return cert.Subject.CommonName
		case "dn":
			return cert.Subject.String()
		case "crt", "pem":
			return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		case "md5":
			sum := md5.Sum(cert.Raw)
			return hex.EncodeToString(sum[:])
		}
		return ""
	}
	if v := field(c.b.conf().PeerCertAsUsername); v != "" {
		c.info.Username = v
	}
	if v := field(c.b.conf().PeerCertAsClientID); v != "" {
		c.info.ClientID = v
	}
}

// authenticate runs the Authenticator, or starts an enhanced authentication
// exchange when a v5 CONNECT names an Authentication Method [MQTT-4.12].
func (c *client) authenticate(p *packet.Connect) error {
	req := AuthRequest{Client: &c.info, Password: p.Password, HasPass: p.PasswordFlag}
	c.w.tally.inc(MClientAuthenticate)
	if p.Props.Has(packet.PropAuthMethod) {
		req.AuthMethod, req.AuthData = string(p.Props.AuthMethod), p.Props.AuthData
		return c.startAuth(p, req)
	}
	var err error
	if c.b.authn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = c.b.authn.Authenticate(ctx, &req)
		cancel()
	}
	if err = c.authResult(err, p); err != nil {
		return err
	}
	return c.finishConnect(p, nil)
}

// authResult counts and reports an authentication outcome; a failure refuses
// the connection.
func (c *client) authResult(err error, p *packet.Connect) error {
	for _, h := range c.b.hooks.load().authenticate {
		h.OnAuthenticate(&c.info, err)
	}
	if err != nil {
		c.b.metrics.Inc(MAuthenticationFailure)
		rc := reasonOf(err)
		if rc < 0x80 {
			rc = packet.ServerUnavailable
		}
		c.logAuthFailed(rc, err)
		return c.answerRefused(rc, err)
	}
	c.b.metrics.Inc(MAuthenticationSuccess)
	if !p.UsernameFlag && !p.PasswordFlag {
		c.b.metrics.Inc(MAuthenticationSuccessAnonymous)
		c.b.metrics.Inc(MClientAuthAnonymous)
	}
	return nil
}

func (c *client) startAuth(p *packet.Connect, req AuthRequest) error {
	ea, ok := c.b.authn.(EnhancedAuthenticator)
	if !ok {
		err := errors.New("enhanced authentication not supported")
		c.logAuthFailed(packet.BadAuthenticationMethod, err)
		return c.answerRefused(packet.BadAuthenticationMethod, err)
	}
	c.auth = &authExchange{connect: p.Clone(), method: req.AuthMethod, req: req}
	c.auth.req.Client = &c.info
	step, err := ea.AuthStart(context.Background(), &c.auth.req)
	return c.authStep(step, err)
}

// continueAuth handles an AUTH packet during the CONNECT exchange.
func (c *client) continueAuth(fh packet.FixedHeader, body []byte) error {
	var a packet.Auth
	if err := packet.DecodeAuth(fh, body, packet.V5, &a); err != nil {
		return c.refuse(reasonOf(err), err)
	}
	c.b.metrics.Inc(MPacketsAuthReceived)
	if a.ReasonCode != packet.ContinueAuthentication || string(a.Props.AuthMethod) != c.auth.method {
		return c.refuse(packet.ProtocolError, errors.New("bad AUTH during connect")) // [MQTT-4.12.0-?]
	}
	c.auth.req.AuthData = append([]byte(nil), a.Props.AuthData...)
	step, err := c.b.authn.(EnhancedAuthenticator).AuthContinue(context.Background(), &c.auth.req, c.auth.state)
	return c.authStep(step, err)
}

func (c *client) authStep(step AuthStep, err error) error {
	if err != nil || step.Done {
		if err := c.authResult(err, c.auth.connect); err != nil {
			return err
		}
		return c.finishConnect(c.auth.connect, step.Data)
	}
	c.auth.state = step.State
	a := &packet.Auth{ReasonCode: packet.ContinueAuthentication}
	a.Props.AuthMethod, a.Props.AuthData = []byte(c.auth.method), step.Data
	a.Props.Set(packet.PropAuthMethod)
	if step.Data != nil {
		a.Props.Set(packet.PropAuthData)
	}
	if buf, err := a.Append(nil, packet.V5); err == nil {
		c.writeDirect(buf)
		c.ctr.inc(rdSendPkt)
		c.b.metrics.Inc(MPacketsAuthSent)
		c.b.metrics.Inc(MPacketsSent)
	}
	return nil
}

// finishConnect sets the connection up, opens or resumes the session and
// sends CONNACK.
func (c *client) finishConnect(p *packet.Connect, authData []byte) error {
	if lo, ok := c.b.conf().Listeners[c.meta.Listener]; ok {
		c.info.Mountpoint = lo.Mountpoint // before the will, whose topic it prefixes
	}
	c.fixLimits()
	will, rc := c.buildWill(p)
	if rc != packet.Success {
		return c.refuse(rc, errors.New("will rejected"))
	}
	c.setLimits(p)
	c.cleanStart = p.CleanStart
	expiry := c.sessionExpiry(p)
	ack := c.connackFor(p, expiry, authData)
	c.b.openSession(c, p.CleanStart, expiry, will, ack, c.info.Username)
	c.logConnected(ack.SessionPresent, expiry)
	if c.auth != nil {
		c.reauth = &authExchange{method: c.auth.method, req: c.auth.req, state: c.auth.state}
		c.auth = nil
	}
	c.armDeadline() // the CONNECT deadline gives way to keep alive (none for 0)
	if c.b.conf().MaxPublishRate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(c.b.conf().MaxPublishRate), max(c.b.conf().PublishBurst, 1))
	}
	c.b.metrics.Inc(MClientConnected)
	c.b.stats.Connections.Add(1)
	for _, h := range c.b.hooks.load().connected {
		h.OnConnected(&c.info)
	}
	c.b.sysClientEvent(&c.info, "connected", nil)
	return nil
}

// fixLimits takes the broker's limits the CONNACK states from the
// configuration in use; they hold for the life of the connection.
func (c *client) fixLimits() {
	cfg := c.b.conf()
	c.maxQoS, c.retainOK, c.aliasInMax, c.ourRecvMax = cfg.MaxQoS, cfg.RetainAvailable, cfg.MaxTopicAlias, cfg.MaxInflight
}

// setLimits records the client's limits and keep alive (for v5, the Server
// Keep Alive CONNACK states, if any).
func (c *client) setLimits(p *packet.Connect) {
	ka := p.KeepAlive
	if c.version == packet.V5 {
		if c.serverKA = serverKeepAlive(c.b.conf(), ka); c.serverKA > 0 {
			ka = c.serverKA // [MQTT-3.2.2-21]
		}
	}
	c.keepAlive = time.Duration(ka) * time.Second
	c.recvMax = c.ourRecvMax
	c.problemInfo = true
	if c.version != packet.V5 {
		return
	}
	if p.Props.Has(packet.PropReceiveMaximum) {
		c.recvMax = min(c.recvMax, int(p.Props.ReceiveMaximum)) // [MQTT-3.3.4-9]
	}
	if p.Props.Has(packet.PropMaximumPacketSize) {
		c.maxOut = int(p.Props.MaximumPacketSize)
	}
	c.aliasMax = p.Props.TopicAliasMaximum
	if p.Props.Has(packet.PropRequestProblemInfo) {
		c.problemInfo = p.Props.RequestProblemInfo == 1
	}
}

// sessionExpiry is the Session Expiry Interval of the new connection: the
// CONNECT property for v5, mqtt.session_expiry_interval for a 3.1.1 client
// without Clean Session, 0 otherwise.
func (c *client) sessionExpiry(p *packet.Connect) uint32 {
	if c.version == packet.V5 {
		return p.Props.SessionExpiry
	}
	if p.CleanStart {
		return 0
	}
	secs := c.b.conf().SessionExpiry / time.Second
	if secs <= 0 || secs >= NeverExpire {
		return NeverExpire
	}
	return uint32(secs)
}

// connackFor builds the CONNACK for an accepted CONNECT (SessionPresent is
// filled in by openSession).
func (c *client) connackFor(p *packet.Connect, expiry uint32, authData []byte) *packet.Connack {
	ack := &packet.Connack{}
	if c.version != packet.V5 {
		return ack
	}
	cfg := c.b.conf()
	pr := &ack.Props
	if c.assigned {
		pr.AssignedClientID = []byte(c.info.ClientID) // [MQTT-3.2.2-16]
		pr.Set(packet.PropAssignedClientID)
	}
	if c.serverKA > 0 {
		pr.ServerKeepAlive = c.serverKA
		pr.Set(packet.PropServerKeepAlive)
	}
	pr.ReceiveMaximum = uint16(c.ourRecvMax)
	pr.Set(packet.PropReceiveMaximum)
	pr.MaximumPacketSize = uint32(cfg.MaxPacketSize)
	pr.Set(packet.PropMaximumPacketSize)
	pr.TopicAliasMaximum = c.aliasInMax
	pr.Set(packet.PropTopicAliasMaximum)
	setFlag := func(ok bool, id packet.PropID, dst *byte) {
		if !ok {
			*dst = 0
			pr.Set(id)
		}
	}
	setFlag(c.retainOK, packet.PropRetainAvailable, &pr.RetainAvailable)
	setFlag(cfg.WildcardSubs, packet.PropWildcardSubAvailable, &pr.WildcardSubAvailable)
	setFlag(cfg.SharedSubs, packet.PropSharedSubAvailable, &pr.SharedSubAvailable)
	if c.maxQoS < 2 {
		pr.MaximumQoS = c.maxQoS
		pr.Set(packet.PropMaximumQoS)
	}
	if p.Props.RequestResponseInfo == 1 && cfg.ResponseInformation != "" {
		pr.ResponseInfo = []byte(cfg.ResponseInformation)
		pr.Set(packet.PropResponseInfo)
	}
	if c.auth != nil {
		pr.AuthMethod = []byte(c.auth.method)
		pr.Set(packet.PropAuthMethod)
		if authData != nil {
			pr.AuthData = authData
			pr.Set(packet.PropAuthData)
		}
	}
	return ack
}

// buildWill validates and builds the will message of a CONNECT.
func (c *client) buildWill(p *packet.Connect) (*Will, packet.ReasonCode) {
	if !p.WillFlag {
		return nil, packet.Success
	}
	if err := topic.ValidateName(p.WillTopic); err != nil {
		return nil, packet.TopicNameInvalid
	}
	if p.WillQoS > c.maxQoS {
		return nil, packet.QoSNotSupported // [MQTT-3.2.2-12]
	}
	if p.WillRetain && !c.retainOK {
		return nil, packet.RetainNotSupported // [MQTT-3.2.2-13]
	}
	tp := c.info.Mountpoint + p.WillTopic
	if !c.b.authorize(c.w, &c.info, ActionPublish, bytesOf(tp), p.WillQoS, p.WillRetain) {
		c.b.log.Debug("will not authorized; dropped", "clientid", c.info.ClientID, "topic", tp)
		return nil, packet.Success
	}
	m := &Message{Topic: tp, Payload: append([]byte(nil), p.WillPayload...), QoS: p.WillQoS,
		Retain: p.WillRetain, From: c.info.ClientID, FromUser: c.info.Username, Node: c.b.conf().NodeName}
	if !p.WillProps.Empty() {
		pr := p.WillProps.Clone()
		pr.Clear(packet.PropWillDelay)
		m.Props = &pr
	}
	return &Will{Msg: m, Delay: p.WillProps.WillDelay}, packet.Success
}
