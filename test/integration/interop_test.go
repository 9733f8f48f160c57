package integration

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// Interop tests run Debian's mosquitto clients (package mosquitto-clients,
// installed by .ci/run) against a node, paired with the Paho clients in
// both directions.

const mosqTimeout = 30 * time.Second // a failure bound for the mosquitto clients

// mosqBin returns the path of a mosquitto client or fails the test.
func mosqBin(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (%v): install mosquitto-clients (apt-get install -y mosquitto-clients); .ci/run does", name, err)
	}
	return p
}

// mosqArgs are the connection arguments for the node's TCP listener.
func mosqArgs(s *testutil.Server, version string) []string {
	host, port, _ := net.SplitHostPort(s.TCP())
	return []string{"-h", host, "-p", port, "-V", version}
}

// mosqPub runs mosquitto_pub to completion.
func mosqPub(t *testing.T, s *testutil.Server, version string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mosqTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, mosqBin(t, "mosquitto_pub"), append(mosqArgs(s, version), args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub %v: %v\n%s", args, err, out)
	}
}

// mosqSub is a running mosquitto_sub.
type mosqSub struct {
	id     string
	rec    *testutil.Clients
	cmd    *exec.Cmd
	out    syncBuffer
	errOut syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer a process writes to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// recorders holds one connection recorder per node.
var recorders sync.Map // *testutil.Server -> *testutil.Clients

func recorderOf(s *testutil.Server) *testutil.Clients {
	if r, ok := recorders.Load(s); ok {
		return r.(*testutil.Clients)
	}
	r, _ := recorders.LoadOrStore(s, testutil.RecordClients(s))
	return r.(*testutil.Clients)
}

// startMosqSub starts mosquitto_sub with the client id id and waits until
// the broker has its subscriptions (nsubs more than before; 0: no wait).
// Earlier mosquitto_subs must have been waited for, so that no
// subscription goes away meanwhile.
func startMosqSub(t *testing.T, s *testutil.Server, version, id string, nsubs int, args ...string) *mosqSub {
	t.Helper()
	before := s.Broker().Stats().Subscriptions.Value()
	ctx, cancel := context.WithTimeout(context.Background(), mosqTimeout)
	t.Cleanup(cancel)
	m := &mosqSub{id: id, rec: recorderOf(s), done: make(chan error, 1)}
	all := append(append(mosqArgs(s, version), "-i", id), args...)
	m.cmd = exec.CommandContext(ctx, mosqBin(t, "mosquitto_sub"), all...)
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.errOut
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start mosquitto_sub: %v", err)
	}
	go func() { m.done <- m.cmd.Wait() }()
	t.Cleanup(func() {
		_ = m.cmd.Process.Kill()
		<-m.done
	})
	if nsubs == 0 {
		return m
	}
	testutil.Eventually(t, mosqTimeout, func() error {
		if n := s.Broker().Stats().Subscriptions.Value(); n < before+int64(nsubs) {
			return fmt.Errorf("mosquitto_sub %s has not subscribed (stderr %q)", id, m.errOut.String())
		}
		return nil
	})
	return m
}

// wait waits for mosquitto_sub to exit, and for the broker to have ended
// its connection, and returns its output lines; it fails unless the exit
// status is want (0; 27 is mosquitto_sub's -W timeout).
func (m *mosqSub) wait(t *testing.T, want int) []string {
	t.Helper()
	var err error
	select {
	case err = <-m.done:
		m.done <- err // for the cleanup
	case <-time.After(mosqTimeout):
		t.Fatalf("mosquitto_sub still running; output so far %q", m.out.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mosquitto_sub: %v", err)
	}
	if code != want {
		t.Fatalf("mosquitto_sub exited %d, want %d: stdout %q stderr %q", code, want, m.out.String(), m.errOut.String())
	}
	m.rec.Disconnected(t, m.id, testutil.Timeout)
	out := strings.TrimSpace(m.out.String())
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// mosqFormat prints retain flag, QoS, topic and payload of each message.
var mosqFormat = []string{"-F", "%r|%q|%t|%p"}

var mosqVersions = []struct{ flag, name string }{{"mqttv311", "v311"}, {"mqttv5", "v5"}}

// TestInteropMosquittoPubToPaho publishes with mosquitto_pub at each QoS
// (and retained) and receives with Paho at the same protocol version
// [MQTT-3.3.1-9] [MQTT-4.3].
func TestInteropMosquittoPubToPaho(t *testing.T) {
	s := testutil.RunServer(t)
	for _, v := range mosqVersions {
		t.Run(v.name, func(t *testing.T) {
			recv := pahoReceiver(t, s, v.name, "mq2p/"+v.name+"/#")
			for qos := range 3 {
				tp := fmt.Sprintf("mq2p/%s/%d", v.name, qos)
				mosqPub(t, s, v.flag, "-q", fmt.Sprint(qos), "-t", tp, "-m", fmt.Sprint("hello-", qos))
				if got := recv(); got != fmt.Sprintf("false|%d|%s|hello-%d", qos, tp, qos) {
					t.Fatalf("got %s", got)
				}
			}
			rt := fmt.Sprintf("mq2p-retained/%s", v.name)
			mosqPub(t, s, v.flag, "-q", "1", "-r", "-t", rt, "-m", "kept")
			late := pahoReceiver(t, s, v.name, rt)
			if got := late(); got != "true|1|"+rt+"|kept" {
				t.Fatalf("retained: got %s", got)
			}
		})
	}
}

// pahoReceiver subscribes a Paho client of the version at QoS 2 and returns
// a function giving the next message as "retain|qos|topic|payload".
func pahoReceiver(t *testing.T, s *testutil.Server, version, filter string) func() string {
	t.Helper()
	id := "paho-" + strings.NewReplacer("/", "-", "#", "all").Replace(filter)
	if version == "v5" {
		c, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: id, CleanStart: true})
		c.SubscribeOK(t, filter, 2)
		return func() string {
			m := c.Next(t)
			return fmt.Sprintf("%t|%d|%s|%s", m.Retain, m.QoS, m.Topic, m.Payload)
		}
	}
	c := testutil.ConnectV3(t, s.TCP(), id)
	testutil.Wait(t, c.Subscribe(filter, 2, nil))
	return func() string {
		m := c.Next(t)
		return fmt.Sprintf("%t|%d|%s|%s", m.Retained(), m.Qos(), m.Topic(), m.Payload())
	}
}

// pahoSender returns a function publishing with a Paho client of the
// version.
func pahoSender(t *testing.T, s *testutil.Server, version, id string) func(topic string, qos byte, retain bool, payload string) {
	t.Helper()
	if version == "v5" {
		c, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: id, CleanStart: true})
		return func(topic string, qos byte, retain bool, payload string) {
			if _, err := c.Publish(testutil.Ctx(t), &paho.Publish{Topic: topic, QoS: qos, Retain: retain, Payload: []byte(payload)}); err != nil {
				t.Fatalf("publish: %v", err)
			}
		}
	}
	c := testutil.ConnectV3(t, s.TCP(), id)
	return func(topic string, qos byte, retain bool, payload string) {
		testutil.Wait(t, c.Publish(topic, qos, retain, payload))
	}
}

// TestInteropPahoToMosquittoSub publishes with Paho at each QoS (and
// retained) and receives with mosquitto_sub.
func TestInteropPahoToMosquittoSub(t *testing.T) {
	s := testutil.RunServer(t)
	for _, v := range mosqVersions {
		t.Run(v.name, func(t *testing.T) {
			send := pahoSender(t, s, v.name, "p2mq-"+v.name)
			prefix := "p2mq/" + v.name
			sub := startMosqSub(t, s, v.flag, "mq-sub-"+v.name, 1, append([]string{"-q", "2", "-C", "3", "-t", prefix + "/#"}, mosqFormat...)...)
			for qos := range byte(3) {
				send(fmt.Sprintf("%s/%d", prefix, qos), qos, false, fmt.Sprint("hi-", qos))
			}
			want := []string{}
			for qos := range 3 {
				want = append(want, fmt.Sprintf("0|%d|%s/%d|hi-%d", qos, prefix, qos, qos))
			}
			if got := sub.wait(t, 0); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("mosquitto_sub got %q, want %q", got, want)
			}
			send(prefix+"-retained", 1, true, "kept")
			late := startMosqSub(t, s, v.flag, "mq-late-"+v.name, 0, append([]string{"-q", "1", "-C", "1", "-t", prefix + "-retained"}, mosqFormat...)...)
			if got := late.wait(t, 0); len(got) != 1 || got[0] != "1|1|"+prefix+"-retained|kept" {
				t.Fatalf("retained: mosquitto_sub got %q", got)
			}
		})
	}
}

// TestInteropWill checks wills both ways: a mosquitto_sub killed without
// DISCONNECT has its --will-topic published to a Paho subscriber, and a
// Paho client whose connection drops has its will delivered to
// mosquitto_sub [MQTT-3.1.2-8].
func TestInteropWill(t *testing.T) {
	s := testutil.RunServer(t)
	for _, v := range mosqVersions {
		t.Run(v.name, func(t *testing.T) {
			wt := "will/" + v.name
			recv := pahoReceiver(t, s, v.name, wt+"/mosq")
			victim := startMosqSub(t, s, v.flag, "mq-victim-"+v.name, 1, "-t", "nothing/here",
				"--will-topic", wt+"/mosq", "--will-payload", "mosq-gone", "--will-qos", "1")
			if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill: %v", err)
			}
			if got := recv(); got != "false|1|"+wt+"/mosq|mosq-gone" {
				t.Fatalf("paho got will %s", got)
			}
			sub := startMosqSub(t, s, v.flag, "mq-will-sub-"+v.name, 1, append([]string{"-q", "1", "-C", "1", "-t", wt + "/paho"}, mosqFormat...)...)
			pahoWithWill(t, s, v.name, wt+"/paho")
			if got := sub.wait(t, 0); len(got) != 1 || got[0] != "0|1|"+wt+"/paho|paho-gone" {
				t.Fatalf("mosquitto_sub got will %q", got)
			}
		})
	}
}

// pahoWithWill connects a Paho client with a will on topic and drops its
// connection without DISCONNECT.
func pahoWithWill(t *testing.T, s *testutil.Server, version, topic string) {
	t.Helper()
	id := "paho-will-" + version
	if version == "v5" {
		c, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: id, CleanStart: true,
			WillMessage: &paho.WillMessage{Topic: topic, QoS: 1, Payload: []byte("paho-gone")}})
		c.Conn.Close()
		return
	}
	var conn net.Conn
	testutil.ConnectV3(t, s.TCP(), id, func(o *mqtt3.ClientOptions) {
		o.SetWill(topic, "paho-gone", 1, false)
		o.SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt3.ClientOptions) (net.Conn, error) {
			var err error
			conn, err = net.DialTimeout("tcp", u.Host, testutil.Timeout)
			return conn, err
		})
	})
	conn.Close() // no DISCONNECT: the will is published
}

// TestInteropV5Properties checks MQTT 5 properties across the clients:
// user properties from mosquitto_pub (-D publish user-property) reach Paho
// in order [MQTT-3.3.2-17] [MQTT-3.3.2-18], Paho's reach mosquitto_sub,
// and a message expiry interval is passed on, reduced by the time the
// message waited [MQTT-3.3.2-6].
func TestInteropV5Properties(t *testing.T) {
	s := testutil.RunServer(t)
	c, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "props-paho", CleanStart: true})
	c.SubscribeOK(t, "props/#", 1)
	mosqPub(t, s, "mqttv5", "-q", "1", "-t", "props/up", "-m", "x",
		"-D", "publish", "user-property", "k1", "v1", "-D", "publish", "user-property", "k2", "v2",
		"-D", "publish", "message-expiry-interval", "60", "-D", "publish", "content-type", "text/plain")
	m := c.Next(t)
	if m.Properties == nil || fmt.Sprint(m.Properties.User) != "[{k1 v1} {k2 v2}]" {
		t.Fatalf("user properties %+v", m.Properties)
	}
	if e := m.Properties.MessageExpiry; e == nil || *e == 0 || *e > 60 {
		t.Fatalf("message expiry %v, want 1..60", e)
	}
	if m.Properties.ContentType != "text/plain" {
		t.Fatalf("content type %q", m.Properties.ContentType)
	}
	sub := startMosqSub(t, s, "mqttv5", "props-mq", 1, "-C", "1", "-q", "1", "-t", "props/down", "-F", "%P|%p")
	_, err := c.Publish(testutil.Ctx(t), &paho.Publish{Topic: "props/down", QoS: 1, Payload: []byte("y"),
		Properties: &paho.PublishProperties{User: paho.UserProperties{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}}})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if got := sub.wait(t, 0); len(got) != 1 || got[0] != "a:1 b:2|y" {
		t.Fatalf("mosquitto_sub got %q, want user properties a:1 b:2", got)
	}
}

// TestInteropMessageExpiry checks that a message from mosquitto_pub whose
// expiry interval passes while the subscriber's session is offline is not
// delivered, while one without expiry is [MQTT-3.3.2-5].
func TestInteropMessageExpiry(t *testing.T) {
	s := testutil.RunServer(t)
	expiry := uint32(300)
	cp := &paho.Connect{ClientID: "expiry-paho", CleanStart: true, Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}
	c, _ := testutil.ConnectV5(t, s.TCP(), cp)
	c.SubscribeOK(t, "exp/#", 1)
	if err := c.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	mosqPub(t, s, "mqttv5", "-q", "1", "-t", "exp/short", "-m", "gone", "-D", "publish", "message-expiry-interval", "1")
	mosqPub(t, s, "mqttv5", "-q", "1", "-t", "exp/long", "-m", "kept")
	time.Sleep(1500 * time.Millisecond) // let the 1 s expiry pass
	cp.CleanStart = false
	again, ack := testutil.ConnectV5(t, s.TCP(), cp)
	if !ack.SessionPresent {
		t.Fatalf("session not present")
	}
	again.Expect(t, "exp/long", "kept")
	again.None(t, 200*time.Millisecond)
}

// TestInteropPersistentSession checks queued delivery to persistent
// sessions both ways: mosquitto_sub -c (clean session 0 / session expiry
// for v5) gets the QoS 1/2 messages Paho published while it was away, and a
// persistent Paho session gets what mosquitto_pub published meanwhile
// [MQTT-3.1.2-4] [MQTT-3.1.2-5].
func TestInteropPersistentSession(t *testing.T) {
	s := testutil.RunServer(t)
	for _, v := range mosqVersions {
		t.Run(v.name, func(t *testing.T) {
			id, tp := "mq-persist-"+v.name, "persist/"+v.name
			first := startMosqSub(t, s, v.flag, id, 1, "-c", "-q", "2", "-t", tp+"/mq", "-E")
			first.wait(t, 0)
			send := pahoSender(t, s, v.name, "persist-pub-"+v.name)
			for i := range 3 {
				send(tp+"/mq", byte(1+i%2), false, fmt.Sprint("queued-", i))
			}
			again := startMosqSub(t, s, v.flag, id, 0, append([]string{"-c", "-q", "2", "-C", "3", "-t", tp + "/mq"}, mosqFormat...)...)
			want := []string{}
			for i := range 3 {
				want = append(want, fmt.Sprintf("0|%d|%s/mq|queued-%d", 1+i%2, tp, i))
			}
			// libmosquitto hands a QoS 2 message over at PUBREL, so across
			// QoS levels the order may change [MQTT-4.6.0-6].
			got := again.wait(t, 0)
			slices.Sort(got)
			slices.Sort(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("mosquitto_sub -c got %q, want %q", got, want)
			}
			pahoPersistentReceives(t, s, v.name, tp+"/paho")
		})
	}
}

// pahoPersistentReceives subscribes a persistent Paho session to topic,
// disconnects it, publishes QoS 1 and 2 with mosquitto_pub and checks the
// reconnected session gets both.
func pahoPersistentReceives(t *testing.T, s *testutil.Server, version, topic string) {
	t.Helper()
	id := "paho-persist-" + version
	if version == "v5" {
		expiry := uint32(300)
		cp := &paho.Connect{ClientID: id, CleanStart: true, Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}
		c, _ := testutil.ConnectV5(t, s.TCP(), cp)
		c.SubscribeOK(t, topic, 2)
		if err := c.Disconnect(&paho.Disconnect{}); err != nil {
			t.Fatalf("disconnect: %v", err)
		}
		mosqPub(t, s, "mqttv5", "-q", "1", "-t", topic, "-m", "q1")
		mosqPub(t, s, "mqttv5", "-q", "2", "-t", topic, "-m", "q2")
		cp.CleanStart = false
		again, _ := testutil.ConnectV5(t, s.TCP(), cp)
		again.Expect(t, topic, "q1")
		again.Expect(t, topic, "q2")
		return
	}
	persistent := func(o *mqtt3.ClientOptions) { o.SetCleanSession(false) }
	c := testutil.ConnectV3(t, s.TCP(), id, persistent)
	testutil.Wait(t, c.Subscribe(topic, 2, nil))
	c.Disconnect(50)
	mosqPub(t, s, "mqttv311", "-q", "1", "-t", topic, "-m", "q1")
	mosqPub(t, s, "mqttv311", "-q", "2", "-t", topic, "-m", "q2")
	again := testutil.ConnectV3(t, s.TCP(), id, persistent)
	for _, want := range []string{"q1", "q2"} {
		if m := again.Next(t); string(m.Payload()) != want {
			t.Fatalf("got %q, want %q", m.Payload(), want)
		}
	}
}

// TestInteropMosquittoTLS publishes with mosquitto_pub over TLS with a
// client certificate to a verify_peer listener, the username taken from the
// certificate's CN (peer_cert_as_username = cn), and checks a client
// without a certificate is refused (EMQX fail_if_no_peer_cert).
func TestInteropMosquittoTLS(t *testing.T) {
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, pki.UseTLS("verify_peer", true), func(c *config.Config) { c.MQTT.PeerCertAsUsername = "cn" })
	rec := testutil.RecordClients(s)
	recv := pahoReceiver(t, s, "v5", "tls-mq/#")
	cert, key := pki.ClientFiles(t, "mosq", pkix.Name{CommonName: "mosq-device"})
	_, port, _ := net.SplitHostPort(s.Addr("ssl:default"))
	base := []string{"-h", "127.0.0.1", "-p", port, "--cafile", pki.CAFile, "-V", "mqttv311", "-i", "mosq-tls", "-q", "1", "-t", "tls-mq/a", "-m", "secure"}
	ctx, cancel := context.WithTimeout(context.Background(), mosqTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, mosqBin(t, "mosquitto_pub"), append(base, "--cert", cert, "--key", key)...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub over TLS: %v\n%s", err, out)
	}
	if got := recv(); got != "false|1|tls-mq/a|secure" {
		t.Fatalf("got %s", got)
	}
	if u := rec.Get(t, "mosq-tls").Username; u != "mosq-device" {
		t.Fatalf("username %q, want the certificate CN", u)
	}
	if out, err := exec.CommandContext(ctx, mosqBin(t, "mosquitto_pub"), base...).CombinedOutput(); err == nil {
		t.Fatalf("mosquitto_pub without a client certificate succeeded: %s", out)
	}
}
