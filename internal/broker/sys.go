package broker

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// sysLoop publishes the $SYS/brokers/<node>/... topics: uptime and datetime
// every heartbeat; version, sysdescr, $SYS/brokers (retained, as EMQX's
// emqx_sys does), stats and metrics at start and every sys interval.
func (b *Broker) sysLoop() {
	hb := newTicker(b.conf().SysHeartbeat)
	st := newTicker(b.conf().SysInterval)
	defer hb.Stop()
	defer st.Stop()
	if b.conf().SysInterval > 0 {
		b.sysStatic()
	}
	for {
		select {
		case <-b.stop:
			return
		case <-hb.C:
			b.sysHeartbeat()
		case <-st.C:
			b.sysStatic()
			b.sysStats()
		case <-b.cfgChanged:
			resetTicker(hb, b.conf().SysHeartbeat)
			resetTicker(st, b.conf().SysInterval)
		}
	}
}

// resetTicker makes t fire every d from now, or never for d <= 0, so a
// sys_topics change through the API applies at once.
func resetTicker(t *time.Ticker, d time.Duration) {
	if d <= 0 {
		t.Stop()
		return
	}
	t.Reset(d)
}

// newTicker returns a ticker, or one that never fires for d <= 0.
func newTicker(d time.Duration) *time.Ticker {
	if d <= 0 {
		t := time.NewTicker(time.Hour)
		t.Stop()
		return t
	}
	return time.NewTicker(d)
}

func (b *Broker) sysTopic(suffix string) string {
	return "$SYS/brokers/" + b.conf().NodeName + "/" + suffix
}

func (b *Broker) sysPublish(tp, payload string) {
	b.Publish(&Message{Topic: tp, Payload: []byte(payload)})
}

func (b *Broker) sysStatic() {
	for tp, payload := range map[string]string{
		"$SYS/brokers": b.conf().NodeName, b.sysTopic("version"): Version, b.sysTopic("sysdescr"): "Herald MQTT broker",
	} {
		b.Publish(&Message{Topic: tp, Payload: []byte(payload), Retain: true})
	}
}

func (b *Broker) sysHeartbeat() {
	b.sysPublish(b.sysTopic("uptime"), strconv.FormatInt(int64(b.Uptime()/time.Second), 10))
	b.sysPublish(b.sysTopic("datetime"), time.Now().UTC().Format(time.RFC3339))
}

// sysStats publishes every gauge and counter, dots in their names becoming
// topic levels (stats/connections/count, metrics/messages/received).
func (b *Broker) sysStats() {
	for name, v := range b.stats.Snapshot() {
		b.sysPublish(b.sysTopic("stats/"+strings.ReplaceAll(name, ".", "/")), strconv.FormatInt(v, 10))
	}
	for name, v := range b.metrics.Snapshot() {
		b.sysPublish(b.sysTopic("metrics/"+strings.ReplaceAll(name, ".", "/")), strconv.FormatUint(v, 10))
	}
}

// sysClientEvent publishes $SYS/brokers/<node>/clients/<id>/connected or
// /disconnected (as EMQX's sys_event_messages) when someone subscribes to it.
func (b *Broker) sysClientEvent(ci *ClientInfo, ev string, reason error) {
	if (b.conf().SysHeartbeat <= 0 && b.conf().SysInterval <= 0) || b.dollarSubs.Load() == 0 {
		return
	}
	tp := b.sysTopic("clients/" + ci.ClientID + "/" + ev)
	if !b.hasSubscribers(tp) {
		return
	}
	now := time.Now()
	body := map[string]any{
		"clientid": ci.ClientID, "username": ci.Username, "ipaddress": ci.RemoteAddr.Addr().String(),
		"proto_ver": ci.ProtocolVersion, "ts": now.UnixMilli(),
	}
	if ev == "connected" {
		body["connected_at"] = now.UnixMilli()
	} else {
		body["disconnected_at"] = now.UnixMilli()
		body["reason"] = "normal"
		if reason != nil {
			body["reason"] = reason.Error()
		}
	}
	payload, _ := json.Marshal(body)
	b.sysPublish(tp, string(payload))
}

// hasSubscribers reports whether any filter matches tp.
func (b *Broker) hasSubscribers(tp string) bool {
	found := false
	b.subs.trie.Match(tp, func(*filterSubs) { found = true })
	return found
}
