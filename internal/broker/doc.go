// Package broker is the MQTT broker core: connection loops, sessions,
// subscriptions, delivery (QoS 0/1/2, inflight, queues, topic alias, flow
// control), retained messages, wills, keep alive, the slow-consumer policy,
// hooks, metrics and $SYS. It declares the ports it needs (Store,
// Authenticator, Authorizer, Forwarder, SessionRegistry, hooks) and ships
// local defaults, so a broker runs and is tested without the cluster.
package broker
