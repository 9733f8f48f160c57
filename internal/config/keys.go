package config

import (
	"errors"
	"strings"
	"time"
)

// List-valued keys: set from a native list in a file, or from JSON.
const (
	usersKey = "authentication.users"
	rulesKey = "authorization.rules"
)

// Bounds shared by several keys.
const (
	maxUint16     = 65535
	maxPacketSize = 256 << 20 // EMQX's limit for mqtt.max_packet_size
	maxInt32      = 1<<31 - 1
	// maxSessionExpiry is the largest MQTT Session Expiry Interval, 2^32-1
	// seconds (a Four Byte Integer; MQTT 5.0 section 3.1.2.11.2).
	maxSessionExpiry = (1<<32 - 1) * time.Second
)

// configFields lists every scalar key outside listeners.*, in the order
// Flatten, the usage text and herald.example.toml follow.
func configFields() []field[Config] {
	fs := []field[Config]{
		nonEmptyF("node.name", func(c *Config) *string { return &c.Node.Name }),
		nonEmptyF("node.data_dir", func(c *Config) *string { return &c.Node.DataDir }),
		strF("node.pprof_bind", func(c *Config) *string { return &c.Node.PprofBind }),
		sizeF("node.gc_heap_floor", func(c *Config) *int { return &c.Node.GCHeapFloor }, 0, 1<<40),
		enumF("durability", func(c *Config) *string { return &c.Durability }, "sync", "async", "off"),
		enumF("log.level", func(c *Config) *string { return &c.Log.Level }, "debug", "info", "warning", "error"),
		enumF("log.format", func(c *Config) *string { return &c.Log.Format }, "text", "json"),
	}
	fs[0].check = checkNodeName
	fs = append(fs, mqttFields()...)
	fs = append(fs, otherFields()...)
	fs = append(fs, dashboardListenerFields()...)
	return append(fs, monitorFields()...)
}

// mqttFields lists the mqtt.* keys.
func mqttFields() []field[Config] {
	peer := []string{"disabled", "cn", "dn", "crt", "pem", "md5"}
	return []field[Config]{
		sizeF("mqtt.max_packet_size", func(c *Config) *int { return &c.MQTT.MaxPacketSize }, 1, maxPacketSize),
		// At least 23: the Server MUST allow 1..23-byte ClientIDs [MQTT-3.1.3-5].
		intF("mqtt.max_clientid_len", func(c *Config) *int { return &c.MQTT.MaxClientIDLen }, 23, maxUint16),
		intF("mqtt.max_topic_levels", func(c *Config) *int { return &c.MQTT.MaxTopicLevels }, 1, maxUint16),
		intF("mqtt.max_topic_alias", func(c *Config) *int { return &c.MQTT.MaxTopicAlias }, 0, maxUint16),
		// Below 2, CONNACK must carry Maximum QoS [MQTT-3.2.2-9].
		intF("mqtt.max_qos_allowed", func(c *Config) *int { return &c.MQTT.MaxQoSAllowed }, 0, 2),
		boolF("mqtt.retain_available", func(c *Config) *bool { return &c.MQTT.RetainAvailable }),
		boolF("mqtt.wildcard_subscription", func(c *Config) *bool { return &c.MQTT.WildcardSubscription }),
		boolF("mqtt.shared_subscription", func(c *Config) *bool { return &c.MQTT.SharedSubscription }),
		boolF("mqtt.ignore_loop_deliver", func(c *Config) *bool { return &c.MQTT.IgnoreLoopDeliver }),
		boolF("mqtt.strict_mode", func(c *Config) *bool { return &c.MQTT.StrictMode }),
		durF("mqtt.idle_timeout", func(c *Config) *time.Duration { return &c.MQTT.IdleTimeout }, Infinity, time.Millisecond, 0),
		countF("mqtt.max_subscriptions", func(c *Config) *int { return &c.MQTT.MaxSubscriptions }, maxInt32),
		boolF("mqtt.upgrade_qos", func(c *Config) *bool { return &c.MQTT.UpgradeQoS }),
		intF("mqtt.max_inflight", func(c *Config) *int { return &c.MQTT.MaxInflight }, 1, maxUint16),
		durF("mqtt.retry_interval", func(c *Config) *time.Duration { return &c.MQTT.RetryInterval }, "", time.Millisecond, 0),
		countF("mqtt.max_awaiting_rel", func(c *Config) *int { return &c.MQTT.MaxAwaitingRel }, maxInt32),
		durF("mqtt.await_rel_timeout", func(c *Config) *time.Duration { return &c.MQTT.AwaitRelTimeout }, "", time.Millisecond, 0),
		durF("mqtt.session_expiry_interval", func(c *Config) *time.Duration { return &c.MQTT.SessionExpiryInterval }, "", 0, maxSessionExpiry),
		countF("mqtt.max_mqueue_len", func(c *Config) *int { return &c.MQTT.MaxMqueueLen }, maxInt32),
		boolF("mqtt.mqueue_store_qos0", func(c *Config) *bool { return &c.MQTT.MqueueStoreQoS0 }),
		keepaliveF("mqtt.server_keepalive", func(c *Config) *int { return &c.MQTT.ServerKeepalive }),
		keepaliveF("mqtt.max_keepalive", func(c *Config) *int { return &c.MQTT.MaxKeepalive }),
		floatF("mqtt.keepalive_multiplier", func(c *Config) *float64 { return &c.MQTT.KeepaliveMultiplier }, 1, maxUint16),
		strF("mqtt.response_information", func(c *Config) *string { return &c.MQTT.ResponseInformation }),
		strF("mqtt.server_reference", func(c *Config) *string { return &c.MQTT.ServerReference }),
		enumF("mqtt.peer_cert_as_username", func(c *Config) *string { return &c.MQTT.PeerCertAsUsername }, peer...),
		enumF("mqtt.peer_cert_as_clientid", func(c *Config) *string { return &c.MQTT.PeerCertAsClientID }, peer...),
		sizeF("mqtt.max_outbound_bytes", func(c *Config) *int { return &c.MQTT.MaxOutboundBytes }, 1, 1<<40),
		enumF("mqtt.slow_consumer_policy", func(c *Config) *string { return &c.MQTT.SlowConsumerPolicy }, "drop", "disconnect"),
		durF("mqtt.send_timeout", func(c *Config) *time.Duration { return &c.MQTT.SendTimeout }, "", time.Millisecond, 0),
		countF("mqtt.slow_consumer_max_drops", func(c *Config) *int { return &c.MQTT.SlowConsumerMaxDrops }, maxInt32),
		rateF("mqtt.max_publish_rate", func(c *Config) *Rate { return &c.MQTT.MaxPublishRate }),
		intF("mqtt.publish_rate_burst", func(c *Config) *int { return &c.MQTT.PublishRateBurst }, 0, maxInt32),
	}
}

// keepaliveF is a keep alive key (mqtt.server_keepalive,
// mqtt.max_keepalive): "disabled" (0) or 1..65535 seconds.
func keepaliveF(key string, p func(*Config) *int) field[Config] {
	f := intF(key, p, 0, maxUint16)
	set := f.set
	f.set = func(c *Config, s string) error {
		if strings.EqualFold(strings.TrimSpace(s), Disabled) {
			*p(c) = 0
			return nil
		}
		return set(c, s)
	}
	f.get = func(c *Config) any { return zeroAs(*p(c), Disabled) }
	return f
}

// otherFields lists the broker, retainer, sys_topics, authentication,
// authorization, dashboard and api_key scalar keys.
func otherFields() []field[Config] {
	return []field[Config]{
		enumF("broker.shared_subscription_strategy", func(c *Config) *string { return &c.Broker.SharedSubscriptionStrategy },
			"random", "round_robin", "sticky", "hash_clientid", "hash_topic", "local"),
		boolF("retainer.enable", func(c *Config) *bool { return &c.Retainer.Enable }),
		intF("retainer.max_retained_messages", func(c *Config) *int { return &c.Retainer.MaxRetainedMessages }, 0, maxInt32),
		sizeF("retainer.max_payload_size", func(c *Config) *int { return &c.Retainer.MaxPayloadSize }, 0, maxPacketSize),
		durF("retainer.msg_expiry_interval", func(c *Config) *time.Duration { return &c.Retainer.MsgExpiryInterval }, "", 0, maxSessionExpiry),
		durF("retainer.msg_clear_interval", func(c *Config) *time.Duration { return &c.Retainer.MsgClearInterval }, "", 0, 0),
		durF("sys_topics.sys_msg_interval", func(c *Config) *time.Duration { return &c.SysTopics.SysMsgInterval }, Disabled, time.Second, 0),
		durF("sys_topics.sys_heartbeat_interval", func(c *Config) *time.Duration { return &c.SysTopics.SysHeartbeatInterval }, Disabled, time.Second, 0),
		boolF("authentication.allow_anonymous", func(c *Config) *bool { return &c.Authentication.AllowAnonymous }),
		enumF("authorization.no_match", func(c *Config) *string { return &c.Authorization.NoMatch }, "allow", "deny"),
		enumF("authorization.deny_action", func(c *Config) *string { return &c.Authorization.DenyAction }, "ignore", "disconnect"),
		strF("dashboard.default_username", func(c *Config) *string { return &c.Dashboard.DefaultUsername }),
		strF("dashboard.default_password", func(c *Config) *string { return &c.Dashboard.DefaultPassword }),
		boolF("prometheus.enable_basic_auth", func(c *Config) *bool { return &c.Prometheus.EnableBasicAuth }),
		durF("dashboard.token_expired_time", func(c *Config) *time.Duration { return &c.Dashboard.TokenExpiredTime }, "", time.Second, 0),
		intF("dashboard.unsuccessful_login_max_attempts", func(c *Config) *int { return &c.Dashboard.UnsuccessfulLoginMaxAttempts }, 1, maxInt32),
		durF("dashboard.unsuccessful_login_interval", func(c *Config) *time.Duration { return &c.Dashboard.UnsuccessfulLoginInterval }, "", time.Second, 0),
		durF("dashboard.unsuccessful_login_lock_duration", func(c *Config) *time.Duration { return &c.Dashboard.UnsuccessfulLoginLockDuration }, "", time.Second, 0),
		strF("api_key.bootstrap_file", func(c *Config) *string { return &c.APIKey.BootstrapFile }),
	}
}

// dashboardListenerFields lists the keys of dashboard.listeners.http and
// dashboard.listeners.https (with its ssl_options).
func dashboardListenerFields() []field[Config] {
	var fs []field[Config]
	for _, name := range []string{"http", "https"} {
		l := func(c *Config) *DashboardListener {
			if name == "http" {
				return &c.Dashboard.Listeners.HTTP
			}
			return &c.Dashboard.Listeners.HTTPS
		}
		k := "dashboard.listeners." + name + "."
		fs = append(fs,
			bindF(k+"bind", func(c *Config) *string { return &l(c).Bind }, func(*Config) {}),
			intF(k+"max_connections", func(c *Config) *int { return &l(c).MaxConnections }, 1, maxInt32),
			durF(k+"idle_timeout", func(c *Config) *time.Duration { return &l(c).IdleTimeout }, "", time.Millisecond, 0),
			durF(k+"read_timeout", func(c *Config) *time.Duration { return &l(c).ReadTimeout }, "", time.Millisecond, 0),
			durF(k+"send_timeout", func(c *Config) *time.Duration { return &l(c).SendTimeout }, "", time.Millisecond, 0))
	}
	return append(fs,
		strF("dashboard.listeners.https.ssl_options.certfile", func(c *Config) *string { return &c.Dashboard.Listeners.HTTPS.SSLOptions.CertFile }),
		strF("dashboard.listeners.https.ssl_options.keyfile", func(c *Config) *string { return &c.Dashboard.Listeners.HTTPS.SSLOptions.KeyFile }))
}

// listenerFields lists the keys under listeners.<typ>.<name>, relative to
// the listener.
func listenerFields(typ string) []field[Listener] {
	fs := []field[Listener]{
		boolF("enable", func(l *Listener) *bool { return &l.Enable }),
		bindF("bind", func(l *Listener) *string { return &l.Bind }, func(l *Listener) { l.Enable = false }),
		countF("max_connections", func(l *Listener) *int { return &l.MaxConnections }, maxInt32),
		rateF("max_conn_rate", func(l *Listener) *Rate { return &l.MaxConnRate }),
		boolF("proxy_protocol", func(l *Listener) *bool { return &l.ProxyProtocol }),
		durF("proxy_protocol_timeout", func(l *Listener) *time.Duration { return &l.ProxyProtocolTimeout }, "", time.Millisecond, 0),
		strF("mountpoint", func(l *Listener) *string { return &l.Mountpoint }),
	}
	if typ == ListenerSSL || typ == ListenerWSS {
		fs = append(fs, sslFields()...)
	}
	if typ == ListenerWS || typ == ListenerWSS {
		fs = append(fs, wsFields()...)
	}
	return fs
}

// sslFields lists a TLS listener's ssl_options.* keys.
func sslFields() []field[Listener] {
	return []field[Listener]{
		strF("ssl_options.certfile", func(l *Listener) *string { return &l.SSLOptions.CertFile }),
		strF("ssl_options.keyfile", func(l *Listener) *string { return &l.SSLOptions.KeyFile }),
		strF("ssl_options.cacertfile", func(l *Listener) *string { return &l.SSLOptions.CACertFile }),
		enumF("ssl_options.verify", func(l *Listener) *string { return &l.SSLOptions.Verify }, "verify_none", "verify_peer"),
		boolF("ssl_options.fail_if_no_peer_cert", func(l *Listener) *bool { return &l.SSLOptions.FailIfNoPeerCert }),
	}
}

// wsFields lists a WebSocket listener's websocket.* keys.
func wsFields() []field[Listener] {
	p := func(l *Listener) *string { return &l.WebSocket.MQTTPath }
	f := strF("websocket.mqtt_path", p)
	f.check = func(l *Listener) error {
		if !strings.HasPrefix(*p(l), "/") {
			return errors.New("must start with /")
		}
		return nil
	}
	return []field[Listener]{f}
}

// monitorFields lists the sysmon.* and alarm.* keys.
func monitorFields() []field[Config] {
	return []field[Config]{
		durF("sysmon.os.cpu_check_interval", func(c *Config) *time.Duration { return &c.Sysmon.CPUCheckInterval }, Disabled, time.Millisecond, 0),
		percentF("sysmon.os.cpu_high_watermark", func(c *Config) *float64 { return &c.Sysmon.CPUHighWatermark }),
		cpuLowF(),
		durF("sysmon.os.mem_check_interval", func(c *Config) *time.Duration { return &c.Sysmon.MemCheckInterval }, Disabled, time.Millisecond, 0),
		percentF("sysmon.os.sysmem_high_watermark", func(c *Config) *float64 { return &c.Sysmon.SysmemHighWatermark }),
		percentF("sysmon.os.procmem_high_watermark", func(c *Config) *float64 { return &c.Sysmon.ProcmemHighWatermark }),
		countF("sysmon.connections.high_watermark", func(c *Config) *int { return &c.Sysmon.ConnHighWatermark }, maxInt32),
		intF("alarm.size_limit", func(c *Config) *int { return &c.Alarm.SizeLimit }, 1, 3000),
		durF("alarm.validity_period", func(c *Config) *time.Duration { return &c.Alarm.ValidityPeriod }, "", time.Second, 0),
	}
}

// cpuLowF is sysmon.os.cpu_low_watermark, which must not exceed the high
// watermark.
func cpuLowF() field[Config] {
	f := percentF("sysmon.os.cpu_low_watermark", func(c *Config) *float64 { return &c.Sysmon.CPULowWatermark })
	check := f.check
	f.check = func(c *Config) error {
		if err := check(c); err != nil {
			return err
		}
		if c.Sysmon.CPULowWatermark > c.Sysmon.CPUHighWatermark {
			return errors.New("must not exceed sysmon.os.cpu_high_watermark")
		}
		return nil
	}
	return f
}
