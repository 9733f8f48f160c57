package server

import (
	"log/slog"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/listener"
)

// shutdownGrace bounds a rollback after a failed Start.
const shutdownGrace = 10 * time.Second

// brokerConfig maps the configuration tree to the broker's settings.
func brokerConfig(c *config.Config) broker.Config {
	m := &c.MQTT
	bc := broker.Config{
		NodeName:            c.Node.Name,
		MaxPacketSize:       m.MaxPacketSize,
		MaxClientIDLen:      m.MaxClientIDLen,
		MaxTopicLevels:      m.MaxTopicLevels,
		MaxTopicAlias:       uint16(m.MaxTopicAlias),
		MaxQoS:              byte(m.MaxQoSAllowed),
		RetainAvailable:     m.RetainAvailable,
		WildcardSubs:        m.WildcardSubscription,
		SharedSubs:          m.SharedSubscription,
		IgnoreLoopDeliver:   m.IgnoreLoopDeliver,
		StrictMode:          m.StrictMode,
		AuthzDenyDisconnect: c.Authorization.DenyAction == "disconnect",
		IdleTimeout:         m.IdleTimeout,
		MaxSubscriptions:    m.MaxSubscriptions,
		UpgradeQoS:          m.UpgradeQoS,
		MaxInflight:         m.MaxInflight,
		RetryInterval:       m.RetryInterval,
		MaxAwaitingRel:      m.MaxAwaitingRel,
		AwaitRelTimeout:     m.AwaitRelTimeout,
		SessionExpiry:       m.SessionExpiryInterval,
		MaxMqueueLen:        m.MaxMqueueLen,
		MqueueStoreQoS0:     m.MqueueStoreQoS0,
		ServerKeepAlive:     uint16(m.ServerKeepalive),
		MaxKeepAlive:        uint16(m.MaxKeepalive),
		KeepaliveMultiplier: m.KeepaliveMultiplier,
		ResponseInformation: m.ResponseInformation,
		ServerReference:     m.ServerReference,
		PeerCertAsUsername:  m.PeerCertAsUsername,
		PeerCertAsClientID:  m.PeerCertAsClientID,
		MaxOutboundBytes:    m.MaxOutboundBytes,
		SlowConsumerPolicy:  m.SlowConsumerPolicy,
		SlowConsumerMaxDrop: m.SlowConsumerMaxDrops,
		SendTimeout:         m.SendTimeout,
		MaxPublishRate:      perSecond(m.MaxPublishRate),
		PublishBurst:        m.PublishRateBurst,
		SharedStrategy:      c.Broker.SharedSubscriptionStrategy,
		RetainerEnabled:     c.Retainer.Enable,
		RetainerMaxCount:    c.Retainer.MaxRetainedMessages,
		RetainerMaxPayload:  c.Retainer.MaxPayloadSize,
		RetainerExpiry:      c.Retainer.MsgExpiryInterval,
		SysInterval:         c.SysTopics.SysMsgInterval,
		SysHeartbeat:        c.SysTopics.SysHeartbeatInterval,
		Listeners:           map[string]broker.ListenerOptions{},
	}
	if bc.PublishBurst == 0 && !m.MaxPublishRate.IsInfinite() {
		bc.PublishBurst = m.MaxPublishRate.Count
	}
	for _, nl := range c.AllListeners() {
		bc.Listeners[nl.ID()] = broker.ListenerOptions{Mountpoint: nl.Listener.Mountpoint}
	}
	return bc
}

// listenerConfig maps one configured listener.
func listenerConfig(nl config.NamedListener, log *slog.Logger) listener.Config {
	l := nl.Listener
	lc := listener.Config{
		ID:             nl.ID(),
		Type:           listener.Type(nl.Type),
		Bind:           l.Bind,
		MaxConnections: l.MaxConnections,
		MaxConnRate:    perSecond(l.MaxConnRate),
		ProxyProtocol:  l.ProxyProtocol,
		ProxyTimeout:   l.ProxyProtocolTimeout,
		WSPath:         l.WebSocket.MQTTPath,
		Logger:         log,
	}
	if nl.Type == config.ListenerSSL || nl.Type == config.ListenerWSS {
		o := l.SSLOptions
		lc.TLS = &listener.TLSConfig{CertFile: o.CertFile, KeyFile: o.KeyFile, CACertFile: o.CACertFile,
			VerifyPeer: o.Verify == "verify_peer", FailIfNoPeerCert: o.FailIfNoPeerCert}
	}
	return lc
}

// perSecond converts a rate for components that take 0 as "no limit".
func perSecond(r config.Rate) float64 {
	if r.IsInfinite() {
		return 0
	}
	return r.PerSecond()
}
