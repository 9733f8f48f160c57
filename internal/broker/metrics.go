package broker

import (
	"sync/atomic"
)

// Metric indexes a counter. Names follow EMQX 5 (emqx_metrics) so the
// management API and $SYS show familiar keys.
type Metric int

// Counters.
const (
	MBytesReceived Metric = iota
	MBytesSent
	MPacketsReceived
	MPacketsSent
	MPacketsConnectReceived
	MPacketsConnackSent
	MPacketsConnackError
	MPacketsConnackAuthError
	MPacketsPublishReceived
	MPacketsPublishSent
	MPacketsPublishInuse
	MPacketsPublishError
	MPacketsPublishAuthError
	MPacketsPublishDropped
	MPacketsPubackReceived
	MPacketsPubackSent
	MPacketsPubackInuse
	MPacketsPubackMissed
	MPacketsPubrecReceived
	MPacketsPubrecSent
	MPacketsPubrecInuse
	MPacketsPubrecMissed
	MPacketsPubrelReceived
	MPacketsPubrelSent
	MPacketsPubrelMissed
	MPacketsPubcompReceived
	MPacketsPubcompSent
	MPacketsPubcompInuse
	MPacketsPubcompMissed
	MPacketsSubscribeReceived
	MPacketsSubscribeError
	MPacketsSubscribeAuthError
	MPacketsSubackSent
	MPacketsUnsubscribeReceived
	MPacketsUnsubscribeError
	MPacketsUnsubackSent
	MPacketsPingreqReceived
	MPacketsPingrespSent
	MPacketsDisconnectReceived
	MPacketsDisconnectSent
	MPacketsAuthReceived
	MPacketsAuthSent
	MMessagesReceived
	MMessagesSent
	MMessagesQoS0Received
	MMessagesQoS0Sent
	MMessagesQoS1Received
	MMessagesQoS1Sent
	MMessagesQoS2Received
	MMessagesQoS2Sent
	MMessagesPublish
	MMessagesDropped
	MMessagesDroppedAwaitPubrelTimeout
	MMessagesDroppedNoSubscribers
	MMessagesForward
	MMessagesDelayed
	MMessagesDelivered
	MMessagesAcked
	MMessagesRetained
	MDeliveryDropped
	MDeliveryDroppedNoLocal
	MDeliveryDroppedTooLarge
	MDeliveryDroppedQoS0Msg
	MDeliveryDroppedQueueFull
	MDeliveryDroppedExpired
	MClientConnect
	MClientConnack
	MClientConnected
	MClientAuthenticate
	MClientAuthAnonymous
	MClientAuthorize
	MClientSubscribe
	MClientUnsubscribe
	MClientDisconnected
	MSessionCreated
	MSessionResumed
	MSessionTakenover
	MSessionDiscarded
	MSessionTerminated
	MAuthorizationAllow
	MAuthorizationDeny
	MAuthenticationSuccess
	MAuthenticationSuccessAnonymous
	MAuthenticationFailure
	MOverloadSlowConsumerDisconnect
	MStoreCommitErrors
	numMetrics
)

var metricNames = [numMetrics]string{
	"bytes.received", "bytes.sent",
	"packets.received", "packets.sent",
	"packets.connect.received", "packets.connack.sent", "packets.connack.error", "packets.connack.auth_error",
	"packets.publish.received", "packets.publish.sent", "packets.publish.inuse", "packets.publish.error",
	"packets.publish.auth_error", "packets.publish.dropped",
	"packets.puback.received", "packets.puback.sent", "packets.puback.inuse", "packets.puback.missed",
	"packets.pubrec.received", "packets.pubrec.sent", "packets.pubrec.inuse", "packets.pubrec.missed",
	"packets.pubrel.received", "packets.pubrel.sent", "packets.pubrel.missed",
	"packets.pubcomp.received", "packets.pubcomp.sent", "packets.pubcomp.inuse", "packets.pubcomp.missed",
	"packets.subscribe.received", "packets.subscribe.error", "packets.subscribe.auth_error", "packets.suback.sent",
	"packets.unsubscribe.received", "packets.unsubscribe.error", "packets.unsuback.sent",
	"packets.pingreq.received", "packets.pingresp.sent",
	"packets.disconnect.received", "packets.disconnect.sent",
	"packets.auth.received", "packets.auth.sent",
	"messages.received", "messages.sent",
	"messages.qos0.received", "messages.qos0.sent", "messages.qos1.received", "messages.qos1.sent",
	"messages.qos2.received", "messages.qos2.sent",
	"messages.publish", "messages.dropped", "messages.dropped.await_pubrel_timeout",
	"messages.dropped.no_subscribers", "messages.forward", "messages.delayed", "messages.delivered",
	"messages.acked", "messages.retained",
	"delivery.dropped", "delivery.dropped.no_local", "delivery.dropped.too_large", "delivery.dropped.qos0_msg",
	"delivery.dropped.queue_full", "delivery.dropped.expired",
	"client.connect", "client.connack", "client.connected", "client.authenticate", "client.auth.anonymous",
	"client.authorize", "client.subscribe", "client.unsubscribe", "client.disconnected",
	"session.created", "session.resumed", "session.takenover", "session.discarded", "session.terminated",
	"authorization.allow", "authorization.deny",
	"authentication.success", "authentication.success.anonymous", "authentication.failure",
	"overload_protection.slow_consumer.disconnect", "store.commit.errors",
}

// Name is the EMQX-style dotted name of the counter.
func (m Metric) Name() string { return metricNames[m] }

// metricStripes spreads counter updates over cache lines so the two cores of
// a small machine do not fight over one line per counter.
const metricStripes = 8

type metricStripe struct {
	v [numMetrics]atomic.Uint64
	_ [64]byte
}

// Metrics holds the node's counters. Hot paths add per read batch, not per
// packet, through a connection's local tally (see tally).
type Metrics struct {
	stripes [metricStripes]metricStripe
	next    atomic.Uint32
}

// Add adds n to counter m on stripe s.
func (ms *Metrics) add(s uint32, m Metric, n uint64) {
	ms.stripes[s%metricStripes].v[m].Add(n)
}

// Inc adds 1 to m.
func (ms *Metrics) Inc(m Metric) { ms.add(0, m, 1) }

// Add adds n to m.
func (ms *Metrics) Add(m Metric, n uint64) { ms.add(0, m, n) }

// Get returns the current value of m.
func (ms *Metrics) Get(m Metric) uint64 {
	var t uint64
	for i := range ms.stripes {
		t += ms.stripes[i].v[m].Load()
	}
	return t
}

// Snapshot returns every counter by name.
func (ms *Metrics) Snapshot() map[string]uint64 {
	out := make(map[string]uint64, numMetrics)
	for m := Metric(0); m < numMetrics; m++ {
		out[m.Name()] = ms.Get(m)
	}
	return out
}

// stripe hands out a stripe index for a new connection.
func (ms *Metrics) stripe() uint32 { return ms.next.Add(1) }

// tally accumulates a connection's counters between flushes so the hot path
// touches shared cache lines once per read batch.
type tally struct {
	n     [numMetrics]uint32
	dirty bool
}

func (t *tally) inc(m Metric)        { t.n[m]++; t.dirty = true }
func (t *tally) add(m Metric, n int) { t.n[m] += uint32(n); t.dirty = true }
func (t *tally) flush(ms *Metrics, s uint32) {
	if !t.dirty {
		return
	}
	st := &ms.stripes[s%metricStripes]
	for i, v := range t.n {
		if v != 0 {
			st.v[i].Add(uint64(v))
			t.n[i] = 0
		}
	}
	t.dirty = false
}
