// Package config is Herald's configuration: a typed tree (Config) whose
// key names follow EMQX's config tree, loaded from layered sources. It
// imports nothing of ours; the composition root maps Config into each
// component's own settings.
//
// # Sources and precedence
//
// Load applies, each over the last: Default(); the file given with
// --config PATH (herald.toml, or herald.yaml/.yml, chosen by extension;
// without the flag no file is read); environment variables; flags
// (--set key=value, repeatable, and the shortcuts --node.name,
// --node.data_dir, --durability, --log.level, in command-line order).
// Then Validate runs. Every problem found is reported at once
// (errors.Join); each is a *KeyError naming the key and the reason, e.g.
//
//	config: mqtt.max_packet_size: "12XB" is not a byte size (e.g. 1MB, 512KB): unknown unit "XB"; set in herald.toml
//
// Unknown keys are errors everywhere (file, any HERALD_ variable, --set,
// unknown flags), with a "did you mean" hint for likely typos.
//
// # Environment
//
// HERALD_ + the key path in upper case with "__" between levels:
// listeners.tcp.default.bind is HERALD_LISTENERS__TCP__DEFAULT__BIND,
// node.data_dir is HERALD_NODE__DATA_DIR. Variable names are lower-cased
// to form the key, so listener names set through the environment are lower
// case. The list keys (authentication.users, authorization.rules) take a
// JSON array, as does --set.
//
// # Value types
//
//   - durations as EMQX writes them: <number><unit> parts, units w, d, h,
//     m, s, ms (case-insensitive, fractions allowed): "15s", "2h", "1h30m",
//     "500ms", "1d"; "0" is zero; the smallest unit is 1ms;
//   - byte sizes: "1MB", "64KB", "1g", "1024" (plain bytes); K, M, G with
//     an optional B, case-insensitive, powers of 1024;
//   - "infinity" where a limit may be lifted, stored as 0; "disabled" for
//     switched-off intervals, stored as 0;
//   - rates: "1000/s", "100/10s", "60/m" or "infinity" (the zero Rate);
//   - booleans (true/false, on/off), integers, enums (checked), lists.
//
// # Listeners
//
// listeners.<type>.<name> for type tcp, ssl, ws, wss and any name of
// letters, digits, '_' and '-'. Setting any key of a new name creates that
// listener with defaults (HERALD_LISTENERS__TCP__INTERNAL__BIND=
// 127.0.0.1:11883 creates tcp:internal). bind = 0, off or false (or
// enable = false) disables a listener. The default ssl and wss listeners
// exist but stay inactive, without error, until ssl_options.certfile is
// set; a user-named ssl/wss listener without one fails Validate.
// ActiveListeners lists the listeners to start.
//
// # Slow consumers
//
// mqtt.max_outbound_bytes bounds the bytes queued for writing to one
// connection. When a message would overflow it, mqtt.slow_consumer_policy
// decides: "disconnect" closes the connection at once; "drop" (default)
// drops the QoS 0 message and counts the drop, and disconnects the client
// once its count exceeds mqtt.slow_consumer_max_drops (0/"infinity":
// never, the default). A consumer that stops reading altogether is closed
// once a write makes no progress for mqtt.send_timeout (15s, as EMQX's
// send_timeout with send_timeout_close). QoS 1 and 2 messages are never dropped by this bound: they wait
// in the session's queue (mqtt.max_mqueue_len) like any undelivered
// message.
//
// # Publish rate
//
// mqtt.max_publish_rate is a per-client token bucket refilled at Count per
// Per; mqtt.publish_rate_burst is the bucket size, 0 meaning the rate's
// Count.
package config
