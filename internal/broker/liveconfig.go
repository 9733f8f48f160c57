package broker

import (
	"errors"
	"fmt"
	"maps"
)

// liveConfig is the configuration in use with what is derived from it. It is
// immutable once stored: UpdateConfig replaces it whole, so a reader sees
// one consistent configuration per load.
type liveConfig struct {
	Config
	strat strategy // parsed SharedStrategy
}

func newLiveConfig(c Config) *liveConfig {
	c.Listeners = maps.Clone(c.Listeners) // the caller keeps its map
	st, _ := parseStrategy(c.SharedStrategy)
	return &liveConfig{Config: c, strat: st}
}

// conf returns the configuration in use (one atomic load). The result must
// not be modified; read it once per operation for a consistent view.
func (b *Broker) conf() *Config { return &b.cfg.Load().Config }

// errNodeName refuses a node name change at run time.
var errNodeName = errors.New("node name cannot change while the broker runs")

// UpdateConfig validates c and makes it the configuration in use. It takes
// effect at once for new connections and for every limit the broker reads
// per packet or per message: mqtt.max_packet_size (also on established
// connections, although their CONNACK stated the old value), queue and
// inflight bounds of sessions, subscription rules (wildcard, shared,
// max_subscriptions, topic levels), the slow-consumer policy, the retainer,
// the shared subscription strategy (from the next message routed). What a
// connection's CONNACK stated or its CONNECT fixed (maximum QoS, retain
// available, topic alias maximum, receive maximum, keep alive, publish
// rate, mountpoint) keeps its old value for that connection and applies to
// connections made after it; the retry and $SYS periods apply from the
// next start. NodeName cannot change at run time (it names the node to the
// cluster, in $SYS topics and on stored messages): a different value is
// refused with an error and nothing changes, as for an invalid c.
func (b *Broker) UpdateConfig(c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("broker: update config: %w", err)
	}
	if cur := b.conf(); c.NodeName != cur.NodeName {
		return fmt.Errorf("broker: update config: %w (%q to %q)", errNodeName, cur.NodeName, c.NodeName)
	}
	b.cfg.Store(newLiveConfig(c))
	select { // the $SYS loop re-reads its intervals
	case b.cfgChanged <- struct{}{}:
	default:
	}
	return nil
}
