package config

import "time"

// Config is Herald's whole configuration. Its tree mirrors the key paths:
// Config.MQTT.MaxPacketSize is mqtt.max_packet_size. Zero values of the
// fields documented as "0 = unlimited" (or "0 = disabled") are what the
// strings "infinity" (or "disabled") parse to.
type Config struct {
	Node           Node
	Durability     string // durability: sync | async | off
	Log            Log
	MQTT           MQTT
	Broker         Broker
	Retainer       Retainer
	SysTopics      SysTopics
	Listeners      Listeners
	Authentication Authentication
	Authorization  Authorization
	Dashboard      Dashboard
	Prometheus     Prometheus
	APIKey         APIKey
	Sysmon         Sysmon
	Alarm          Alarm
}

// Node identifies this broker node.
type Node struct {
	Name      string // node.name: "name@host", exactly one '@'
	DataDir   string // node.data_dir
	PprofBind string // node.pprof_bind: serve net/http/pprof here ("" = off; for profiling)
	// GCHeapFloor is node.gc_heap_floor: the Go heap may grow to this many
	// bytes before the garbage collector runs (0 = Go's own pacing).
	GCHeapFloor int
}

// Log configures logging.
type Log struct {
	Level  string // log.level: debug | info | warning | error
	Format string // log.format: text | json
}

// MQTT holds the protocol limits and session behaviour (EMQX's mqtt.* tree).
type MQTT struct {
	MaxPacketSize         int           // bytes, 1..256MB
	MaxClientIDLen        int           // 23..65535
	MaxTopicLevels        int           // 1..65535
	MaxTopicAlias         int           // 0..65535
	MaxQoSAllowed         int           // 0..2
	RetainAvailable       bool          //
	WildcardSubscription  bool          //
	SharedSubscription    bool          //
	IgnoreLoopDeliver     bool          //
	StrictMode            bool          //
	IdleTimeout           time.Duration // wait for CONNECT; 0 = infinity
	MaxSubscriptions      int           // per client; 0 = infinity
	UpgradeQoS            bool          //
	MaxInflight           int           // 1..65535
	RetryInterval         time.Duration // > 0
	MaxAwaitingRel        int           // 0 = infinity
	AwaitRelTimeout       time.Duration // > 0
	SessionExpiryInterval time.Duration // default for 3.1.1 persistent sessions
	MaxMqueueLen          int           // 0 = infinity
	MqueueStoreQoS0       bool          //
	ServerKeepalive       int           // seconds; 0 = disabled
	MaxKeepalive          int           // seconds; 0 = disabled (no cap)
	KeepaliveMultiplier   float64       // 1..65535
	ResponseInformation   string        //
	ServerReference       string        // MQTT 5 Server Reference sent with 0x9C when the node shuts down
	PeerCertAsUsername    string        // disabled | cn | dn | crt | pem | md5
	PeerCertAsClientID    string        // same values as PeerCertAsUsername
	MaxOutboundBytes      int           // byte bound of a connection's outbound queue
	SlowConsumerPolicy    string        // drop | disconnect (see the package doc)
	SlowConsumerMaxDrops  int           // drops before disconnect; 0 = infinity
	SendTimeout           time.Duration // a connection whose writes make no progress this long is closed
	MaxPublishRate        Rate          // per client; zero = infinity
	PublishRateBurst      int           // bucket size; 0 = the rate's Count
}

// Broker holds routing behaviour.
type Broker struct {
	// SharedSubscriptionStrategy: random | round_robin | sticky |
	// hash_clientid | hash_topic | local.
	SharedSubscriptionStrategy string
}

// Retainer configures retained messages.
type Retainer struct {
	Enable              bool
	MaxRetainedMessages int           // 0 = unlimited
	MaxPayloadSize      int           // bytes; 0 = unlimited
	MsgExpiryInterval   time.Duration // 0 = never expire
	MsgClearInterval    time.Duration // sweep expired retained messages this often; 0 = disabled
}

// Sysmon configures the system monitor that raises alarms (EMQX's
// sysmon.os tree, plus Herald's connection watermark).
type Sysmon struct {
	// CPUCheckInterval is sysmon.os.cpu_check_interval (0 = disabled).
	CPUCheckInterval time.Duration
	// CPUHighWatermark and CPULowWatermark are percentages: high_cpu_usage
	// is raised above the high one and cleared below the low one.
	CPUHighWatermark float64
	CPULowWatermark  float64
	// MemCheckInterval is sysmon.os.mem_check_interval (0 = disabled); the
	// memory and connection checks run this often.
	MemCheckInterval time.Duration
	// SysmemHighWatermark is the system memory in use, in percent, above
	// which high_system_memory_usage is raised.
	SysmemHighWatermark float64
	// ProcmemHighWatermark is this process's resident memory, in percent
	// of system memory, above which high_process_memory_usage is raised.
	ProcmemHighWatermark float64
	// ConnHighWatermark is sysmon.connections.high_watermark: more
	// connections than this raise high_connection_count (0 = disabled).
	ConnHighWatermark int
}

// Alarm configures the alarm history.
type Alarm struct {
	SizeLimit      int           // alarm.size_limit: deactivated alarms kept, 1..3000
	ValidityPeriod time.Duration // alarm.validity_period: how long deactivated alarms are kept
}

// SysTopics configures the $SYS publisher.
type SysTopics struct {
	SysMsgInterval       time.Duration // 0 = disabled
	SysHeartbeatInterval time.Duration // 0 = disabled
}

// Listener types: the second level of the listeners.* tree.
const (
	ListenerTCP = "tcp"
	ListenerSSL = "ssl"
	ListenerWS  = "ws"
	ListenerWSS = "wss"
)

// ListenerTypes lists the listener types in key order.
var ListenerTypes = []string{ListenerTCP, ListenerSSL, ListenerWS, ListenerWSS}

// Listeners maps listener name to its settings, one map per type:
// listeners.tcp.default is Listeners.TCP["default"].
type Listeners struct {
	TCP map[string]Listener
	SSL map[string]Listener
	WS  map[string]Listener
	WSS map[string]Listener
}

// Listener is one listeners.<type>.<name> entry. SSLOptions applies to the
// ssl and wss types only, WebSocket to ws and wss only.
type Listener struct {
	Enable               bool
	Bind                 string // "host:port"; "" when disabled by bind = off
	MaxConnections       int    // 0 = infinity
	MaxConnRate          Rate   // zero = infinity
	ProxyProtocol        bool
	ProxyProtocolTimeout time.Duration
	Mountpoint           string
	SSLOptions           SSLOptions
	WebSocket            WebSocket
}

// SSLOptions is a TLS listener's certificate setup.
type SSLOptions struct {
	CertFile         string // ssl_options.certfile
	KeyFile          string // ssl_options.keyfile
	CACertFile       string // ssl_options.cacertfile
	Verify           string // verify_none | verify_peer
	FailIfNoPeerCert bool   // requires Verify == verify_peer
}

// WebSocket is a ws/wss listener's HTTP setup.
type WebSocket struct {
	MQTTPath string // websocket.mqtt_path, starts with '/'
}

// Authentication configures the built-in user database.
type Authentication struct {
	AllowAnonymous bool
	Users          []User
}

// User is one authentication.users entry. Missing fields in a file take
// Algorithm "sha256" and SaltPosition "prefix" (EMQX's built-in database
// defaults).
type User struct {
	Username     string `json:"username"`
	PasswordHash string `json:"password_hash"`
	Algorithm    string `json:"algorithm"`     // bcrypt | pbkdf2 | sha256 | sha512 | plain
	Salt         string `json:"salt"`          // must be empty for bcrypt
	SaltPosition string `json:"salt_position"` // prefix | suffix
	IsSuperuser  bool   `json:"is_superuser"`
}

// Authorization configures the built-in ACL.
type Authorization struct {
	NoMatch    string // allow | deny
	DenyAction string // ignore | disconnect
	Rules      []Rule // checked in order, first match wins
}

// Rule is one authorization.rules entry. Missing Who and Action default to
// "all".
type Rule struct {
	Permission string   `json:"permission"` // allow | deny
	Who        string   `json:"who"`        // all | username:<u> | clientid:<c> | ipaddr:<cidr>
	Action     string   `json:"action"`     // publish | subscribe | all
	Topics     []string `json:"topics"`     // filters; "eq t/#" matches literally; %u, %c placeholders
}

// Dashboard configures the HTTP management API (EMQX's dashboard.* tree).
type Dashboard struct {
	Listeners       DashboardListeners
	DefaultUsername string // the administrator created on first start
	DefaultPassword string // its password until changed through the API
	// TokenExpiredTime is dashboard.token_expired_time: the lifetime of a
	// bearer token from POST /login.
	TokenExpiredTime time.Duration
	// UnsuccessfulLoginMaxAttempts failed logins of one user within
	// UnsuccessfulLoginInterval lock its login for
	// UnsuccessfulLoginLockDuration (EMQX's login lock).
	UnsuccessfulLoginMaxAttempts  int
	UnsuccessfulLoginInterval     time.Duration
	UnsuccessfulLoginLockDuration time.Duration
}

// APIKey is EMQX's api_key.* tree.
type APIKey struct {
	// BootstrapFile is api_key.bootstrap_file: API keys loaded at start,
	// one "key:secret[:role]" a line ("" = none).
	BootstrapFile string
}

// DashboardListeners is dashboard.listeners: the HTTP API's plain and TLS
// listeners, which serve the same API.
type DashboardListeners struct {
	HTTP  DashboardListener
	HTTPS DashboardListener
}

// DashboardListener is dashboard.listeners.http or dashboard.listeners.https.
// Every connection is bounded in number and in time: the HTTP API shares
// the process's file descriptors with the MQTT listeners.
type DashboardListener struct {
	Bind string // "host:port"; "" = off
	// MaxConnections bounds the open connections (EMQX max_connections);
	// one more is accepted and closed at once.
	MaxConnections int
	// IdleTimeout closes a keep-alive connection that sends no request for
	// this long (the idle_timeout of EMQX's HTTP server, cowboy: 60 s).
	IdleTimeout time.Duration
	// ReadTimeout bounds the reading of one request, headers and body.
	ReadTimeout time.Duration
	// SendTimeout closes a connection whose socket takes no byte of a
	// response for this long (EMQX send_timeout).
	SendTimeout time.Duration
	// SSLOptions are the certificate and key of the https listener.
	SSLOptions DashboardSSL
}

// DashboardSSL is dashboard.listeners.https.ssl_options.
type DashboardSSL struct {
	CertFile string // PEM certificate chain, the server's first
	KeyFile  string // PEM private key
}

// Prometheus configures the Prometheus endpoints of the HTTP API
// (prometheus.*).
type Prometheus struct {
	// EnableBasicAuth makes GET /api/v5/prometheus/* require credentials
	// (prometheus.enable_basic_auth; default false: public, as EMQX).
	EnableBasicAuth bool
}

// Default returns the built-in defaults. Every call returns fresh maps.
// defaultDashboardListeners: HTTP on 18083, HTTPS off (EMQX's defaults),
// both bounded as EMQX bounds its dashboard listeners.
func defaultDashboardListeners() DashboardListeners {
	l := DashboardListener{MaxConnections: 512, IdleTimeout: 60 * time.Second, ReadTimeout: 60 * time.Second,
		SendTimeout: 10 * time.Second}
	http := l
	http.Bind = "0.0.0.0:18083"
	return DashboardListeners{HTTP: http, HTTPS: l}
}

func Default() Config {
	return Config{
		Node:       Node{Name: "herald@127.0.0.1", DataDir: "./data", GCHeapFloor: 64 << 20},
		Durability: "sync",
		Log:        Log{Level: "info", Format: "text"},
		MQTT:       defaultMQTT(),
		Broker:     Broker{SharedSubscriptionStrategy: "round_robin"},
		Retainer: Retainer{
			Enable:         true,
			MaxPayloadSize: 1 << 20,
		},
		SysTopics: SysTopics{
			SysMsgInterval:       time.Minute,
			SysHeartbeatInterval: 30 * time.Second,
		},
		Listeners:      defaultListeners(),
		Authentication: Authentication{AllowAnonymous: true},
		Authorization:  Authorization{NoMatch: "allow", DenyAction: "ignore"},
		Dashboard: Dashboard{
			Listeners:                     defaultDashboardListeners(),
			DefaultUsername:               "admin",
			DefaultPassword:               "public",
			TokenExpiredTime:              60 * time.Minute,
			UnsuccessfulLoginMaxAttempts:  5,
			UnsuccessfulLoginInterval:     5 * time.Minute,
			UnsuccessfulLoginLockDuration: 10 * time.Minute,
		},
		Sysmon: Sysmon{
			CPUCheckInterval: 60 * time.Second, CPUHighWatermark: 80, CPULowWatermark: 60,
			MemCheckInterval: 60 * time.Second, SysmemHighWatermark: 70, ProcmemHighWatermark: 5,
		},
		Alarm: Alarm{SizeLimit: 1000, ValidityPeriod: 24 * time.Hour},
	}
}

func defaultMQTT() MQTT {
	return MQTT{
		MaxPacketSize:         1 << 20,
		MaxClientIDLen:        65535,
		MaxTopicLevels:        128,
		MaxTopicAlias:         65535,
		MaxQoSAllowed:         2,
		RetainAvailable:       true,
		WildcardSubscription:  true,
		SharedSubscription:    true,
		IdleTimeout:           15 * time.Second,
		MaxInflight:           32,
		RetryInterval:         30 * time.Second,
		MaxAwaitingRel:        100,
		AwaitRelTimeout:       300 * time.Second,
		SessionExpiryInterval: 2 * time.Hour,
		MaxMqueueLen:          1000,
		MqueueStoreQoS0:       true,
		KeepaliveMultiplier:   1.5,
		PeerCertAsUsername:    "disabled",
		PeerCertAsClientID:    "disabled",
		MaxOutboundBytes:      8 << 20,
		SlowConsumerPolicy:    "drop",
		SlowConsumerMaxDrops:  0,
		SendTimeout:           15 * time.Second,
	}
}

func defaultListeners() Listeners {
	return Listeners{
		TCP: map[string]Listener{"default": newListener("0.0.0.0:1883")},
		SSL: map[string]Listener{"default": newListener("0.0.0.0:8883")},
		WS:  map[string]Listener{"default": newListener("0.0.0.0:8083")},
		WSS: map[string]Listener{"default": newListener("0.0.0.0:8084")},
	}
}

// newListener is a listener's defaults; user-defined listeners start here
// with an empty bind, which Validate requires them to set.
func newListener(bind string) Listener {
	return Listener{
		Enable:               true,
		Bind:                 bind,
		ProxyProtocolTimeout: 3 * time.Second,
		SSLOptions:           SSLOptions{Verify: "verify_none"},
		WebSocket:            WebSocket{MQTTPath: "/mqtt"},
	}
}

// ByType returns the listener map for a type (ListenerTCP...), nil for an
// unknown type.
func (l *Listeners) ByType(typ string) map[string]Listener {
	switch typ {
	case ListenerTCP:
		return l.TCP
	case ListenerSSL:
		return l.SSL
	case ListenerWS:
		return l.WS
	case ListenerWSS:
		return l.WSS
	}
	return nil
}

// setByType stores a listener, creating the type's map when nil.
func (l *Listeners) setByType(typ, name string, v Listener) {
	m := l.ByType(typ)
	if m == nil {
		m = map[string]Listener{}
		switch typ {
		case ListenerTCP:
			l.TCP = m
		case ListenerSSL:
			l.SSL = m
		case ListenerWS:
			l.WS = m
		case ListenerWSS:
			l.WSS = m
		}
	}
	m[name] = v
}
