package packet

// Type is the MQTT control packet type, bits 7-4 of the fixed header.
type Type byte

// Control packet types [MQTT-2.1.2].
const (
	CONNECT     Type = 1
	CONNACK     Type = 2
	PUBLISH     Type = 3
	PUBACK      Type = 4
	PUBREC      Type = 5
	PUBREL      Type = 6
	PUBCOMP     Type = 7
	SUBSCRIBE   Type = 8
	SUBACK      Type = 9
	UNSUBSCRIBE Type = 10
	UNSUBACK    Type = 11
	PINGREQ     Type = 12
	PINGRESP    Type = 13
	DISCONNECT  Type = 14
	AUTH        Type = 15
)

var typeNames = [...]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "INVALID"
}

// Protocol levels carried in CONNECT.
const (
	V31  byte = 3 // MQTT 3.1, protocol name "MQIsdp"
	V311 byte = 4 // MQTT 3.1.1, protocol name "MQTT"
	V5   byte = 5 // MQTT 5.0, protocol name "MQTT"
)

// MaxRemaining is the largest Remaining Length a variable byte integer can hold [MQTT-1.5.5].
const MaxRemaining = 268435455

// FixedHeader is the first 2-5 bytes of every packet.
type FixedHeader struct {
	Type      Type
	Flags     byte // low nibble of byte 0: DUP/QoS/RETAIN for PUBLISH, fixed values otherwise
	Remaining int  // Remaining Length: bytes after the fixed header
}

// Packet is implemented by every packet struct (as a pointer). Append encodes
// the packet for the given protocol level and appends it to dst. It returns
// the encoding error (wrapping a ReasonCode, typically ErrProtocol for a field
// the level cannot carry) and dst unchanged. Size returns the length Append
// writes, fixed header included; it assumes the packet is encodable.
type Packet interface {
	Type() Type
	Append(dst []byte, version byte) ([]byte, error)
	Size(version byte) int
}

// Connect is the CONNECT packet [MQTT-3.1].
//
// Decoding aliases the input buffer for []byte fields (Password, WillPayload and
// the []byte fields of the Properties); string fields are copies. Call Clone to
// keep a packet beyond the life of the buffer it was decoded from.
//
// Append takes the protocol name and level from its version argument, not
// from ProtocolName and ProtocolVersion, and sets the User Name and Password
// flags when Username or Password is non-empty.
type Connect struct {
	ProtocolName    string // "MQTT" or "MQIsdp"
	ProtocolVersion byte   // V31, V311 or V5
	CleanStart      bool   // Clean Session in 3.1/3.1.1
	KeepAlive       uint16 // seconds
	ClientID        string
	UsernameFlag    bool
	Username        string
	PasswordFlag    bool
	Password        []byte
	WillFlag        bool
	WillQoS         byte
	WillRetain      bool
	WillTopic       string
	WillPayload     []byte
	WillProps       Properties // v5 only
	Props           Properties // v5 only
}

// Connack is the CONNACK packet [MQTT-3.2]. For 3.1/3.1.1 ReasonCode holds the
// v3 return code (0-5); Append translates a v5 failure code (0x80 and above)
// with V3ConnackCode.
type Connack struct {
	SessionPresent bool
	ReasonCode     ReasonCode
	Props          Properties
}

// Publish is the PUBLISH packet [MQTT-3.3]. Topic and Payload alias the
// decode input.
type Publish struct {
	Dup      bool
	QoS      byte
	Retain   bool
	Topic    []byte // empty in v5 when a Topic Alias property stands for it
	PacketID uint16 // QoS > 0 only
	Props    Properties
	Payload  []byte
}

// Ack is PUBACK, PUBREC, PUBREL or PUBCOMP [MQTT-3.4 to 3.7]. In v3 only
// PacketID is encoded. In v5 the reason code and properties are left out of the
// encoding when they are Success and empty [MQTT-3.4.2.1].
type Ack struct {
	PacketType Type // PUBACK, PUBREC, PUBREL or PUBCOMP
	PacketID   uint16
	ReasonCode ReasonCode
	Props      Properties
}

// Subscription is one topic filter and its options in a SUBSCRIBE [MQTT-3.8.3.1].
type Subscription struct {
	Filter            string
	QoS               byte // maximum QoS
	NoLocal           bool // v5
	RetainAsPublished bool // v5
	RetainHandling    byte // v5: 0 send at subscribe, 1 only if new, 2 never
}

// Subscribe is the SUBSCRIBE packet [MQTT-3.8].
type Subscribe struct {
	PacketID      uint16
	Props         Properties // SubscriptionIDs holds at most one identifier
	Subscriptions []Subscription
}

// Suback is the SUBACK packet [MQTT-3.9]. In v3 the codes are 0, 1, 2 or 0x80;
// Append sends every v5 failure code as 0x80.
type Suback struct {
	PacketID    uint16
	Props       Properties
	ReasonCodes []ReasonCode
}

// Unsubscribe is the UNSUBSCRIBE packet [MQTT-3.10].
type Unsubscribe struct {
	PacketID uint16
	Props    Properties
	Filters  []string
}

// Unsuback is the UNSUBACK packet [MQTT-3.11]. ReasonCodes is v5 only.
type Unsuback struct {
	PacketID    uint16
	Props       Properties
	ReasonCodes []ReasonCode
}

// Pingreq is the PINGREQ packet [MQTT-3.12].
type Pingreq struct{}

// Pingresp is the PINGRESP packet [MQTT-3.13].
type Pingresp struct{}

// Disconnect is the DISCONNECT packet [MQTT-3.14]. Reason code and
// properties exist in v5 only.
type Disconnect struct {
	ReasonCode ReasonCode
	Props      Properties
}

// Auth is the AUTH packet [MQTT-3.15], v5 only.
type Auth struct {
	ReasonCode ReasonCode
	Props      Properties
}

// UserProperty is one User Property name/value pair.
type UserProperty struct {
	Key   []byte
	Value []byte
}
