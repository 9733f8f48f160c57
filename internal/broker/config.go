package broker

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the broker's settings. Zero values take the defaults of
// withDefaults, which follow EMQX's.
type Config struct {
	NodeName string // "herald@127.0.0.1"

	MaxPacketSize       int           // bytes, both directions' local limit (mqtt.max_packet_size)
	MaxClientIDLen      int           // mqtt.max_clientid_len
	MaxTopicLevels      int           // mqtt.max_topic_levels
	MaxTopicAlias       uint16        // mqtt.max_topic_alias: aliases a client may use towards us
	MaxQoS              byte          // mqtt.max_qos_allowed
	RetainAvailable     bool          // mqtt.retain_available
	WildcardSubs        bool          // mqtt.wildcard_subscription
	SharedSubs          bool          // mqtt.shared_subscription
	IgnoreLoopDeliver   bool          // mqtt.ignore_loop_deliver: no local for v3 clients
	StrictMode          bool          // mqtt.strict_mode: validate UTF-8 payloads marked as such
	AuthzDenyDisconnect bool          // authorization.deny_action = disconnect
	IdleTimeout         time.Duration // mqtt.idle_timeout: CONNECT deadline; <0 = none
	MaxSubscriptions    int           // mqtt.max_subscriptions per client, 0 = unlimited
	UpgradeQoS          bool          // mqtt.upgrade_qos
	MaxInflight         int           // mqtt.max_inflight, also the Receive Maximum we advertise
	RetryInterval       time.Duration // mqtt.retry_interval (v3 in-session retry of unacked QoS>0)
	MaxAwaitingRel      int           // mqtt.max_awaiting_rel, 0 = unlimited
	AwaitRelTimeout     time.Duration // mqtt.await_rel_timeout
	SessionExpiry       time.Duration // mqtt.session_expiry_interval for 3.1.1 persistent sessions
	MaxMqueueLen        int           // mqtt.max_mqueue_len, 0 = unlimited
	MqueueStoreQoS0     bool          // mqtt.mqueue_store_qos0
	ServerKeepAlive     uint16        // mqtt.server_keepalive seconds, 0 = disabled
	MaxKeepAlive        uint16        // mqtt.max_keepalive seconds, 0 = disabled
	KeepaliveMultiplier float64       // mqtt.keepalive_multiplier
	ResponseInformation string        // mqtt.response_information
	ServerReference     string        // mqtt.server_reference: sent with 0x9C when the node shuts down
	PeerCertAsUsername  string        // disabled|cn|dn|crt|pem|md5
	PeerCertAsClientID  string        // disabled|cn|dn|crt|pem|md5
	MaxOutboundBytes    int           // byte bound of one connection's outbound queue
	SlowConsumerPolicy  string        // "drop" or "disconnect"
	SlowConsumerMaxDrop int           // drops before a "drop" consumer is disconnected, 0 = never
	SendTimeout         time.Duration // a write that makes no progress this long closes the connection
	MaxPublishRate      float64       // per-client publishes per second, 0 = unlimited
	PublishBurst        int

	SharedStrategy string // random|round_robin|sticky|hash_clientid|hash_topic|local

	RetainerEnabled    bool
	RetainerMaxCount   int           // 0 = unlimited
	RetainerMaxPayload int           // 0 = unlimited
	RetainerExpiry     time.Duration // default expiry of retained messages without one, 0 = never

	SysInterval  time.Duration // $SYS stats/metrics period, 0 = off
	SysHeartbeat time.Duration // $SYS uptime/datetime period, 0 = off

	// Listeners holds per-listener options by listener id ("tcp:default").
	Listeners map[string]ListenerOptions
}

// ListenerOptions are per-listener broker settings.
type ListenerOptions struct {
	Mountpoint string // prefix added to topics of clients of this listener
}

// DefaultConfig returns EMQX-like defaults.
func DefaultConfig() Config {
	return Config{
		NodeName:            "herald@127.0.0.1",
		MaxPacketSize:       1 << 20,
		MaxClientIDLen:      65535,
		MaxTopicLevels:      128,
		MaxTopicAlias:       65535,
		MaxQoS:              2,
		RetainAvailable:     true,
		WildcardSubs:        true,
		SharedSubs:          true,
		IdleTimeout:         15 * time.Second,
		MaxInflight:         32,
		RetryInterval:       30 * time.Second,
		MaxAwaitingRel:      100,
		AwaitRelTimeout:     300 * time.Second,
		SessionExpiry:       2 * time.Hour,
		MaxMqueueLen:        1000,
		MqueueStoreQoS0:     true,
		KeepaliveMultiplier: 1.5,
		PeerCertAsUsername:  "disabled",
		PeerCertAsClientID:  "disabled",
		MaxOutboundBytes:    8 << 20,
		SlowConsumerPolicy:  "drop",
		SendTimeout:         15 * time.Second,
		SharedStrategy:      "round_robin",
		RetainerEnabled:     true,
		RetainerMaxPayload:  1 << 20,
		SysInterval:         time.Minute,
		SysHeartbeat:        30 * time.Second,
	}
}

var errConfig = errors.New("broker config")

// Validate checks the settings the broker relies on.
func (c *Config) Validate() error {
	var errs []error
	check := func(ok bool, key, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s: "+format, append([]any{errConfig, key}, a...)...))
		}
	}
	check(c.MaxPacketSize > 0 && c.MaxPacketSize <= 268435455+5, "mqtt.max_packet_size", "%d out of range", c.MaxPacketSize)
	check(c.MaxQoS <= 2, "mqtt.max_qos_allowed", "%d is not 0, 1 or 2", c.MaxQoS)
	check(c.MaxInflight >= 1 && c.MaxInflight <= 65535, "mqtt.max_inflight", "%d out of range 1..65535", c.MaxInflight)
	check(c.MaxTopicLevels >= 1, "mqtt.max_topic_levels", "must be at least 1")
	check(c.MaxClientIDLen >= 23, "mqtt.max_clientid_len", "must be at least 23")
	check(c.KeepaliveMultiplier >= 1, "mqtt.keepalive_multiplier", "must be at least 1")
	check(c.MaxOutboundBytes >= 4096, "mqtt.max_outbound_bytes", "must be at least 4KB")
	check(c.SlowConsumerPolicy == "drop" || c.SlowConsumerPolicy == "disconnect",
		"mqtt.slow_consumer_policy", "%q is not drop or disconnect", c.SlowConsumerPolicy)
	_, ok := parseStrategy(c.SharedStrategy)
	check(ok, "broker.shared_subscription_strategy", "unknown strategy %q", c.SharedStrategy)
	check(validCertField(c.PeerCertAsUsername), "mqtt.peer_cert_as_username", "unknown value %q", c.PeerCertAsUsername)
	check(validCertField(c.PeerCertAsClientID), "mqtt.peer_cert_as_clientid", "unknown value %q", c.PeerCertAsClientID)
	return errors.Join(errs...)
}

func validCertField(s string) bool {
	switch s {
	case "", "disabled", "cn", "dn", "crt", "pem", "md5":
		return true
	}
	return false
}
