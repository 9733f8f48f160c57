// Package loadgen is `herald bench`, Herald's own MQTT load generator: it
// measures any broker (Herald, mosquitto, mochi-mqtt) on loopback and is
// light enough that on a small machine the broker, not the tool, is the
// bottleneck. It speaks MQTT 3.1.1 and 5 by hand over net.Conn and imports
// nothing of the broker.
//
//	herald bench <scenario> [flags]     (Main(args, stdout, stderr) int)
//
// # Scenarios
//
//   - conn: open -c idle connections with -workers dialers (at most -rate
//     per second), hold them -hold, report connect_per_s, failures,
//     dead_after_hold and the broker's RSS before/held/after and per
//     connection.
//   - pub: -c publishers on -t (%i = client index, %c = client id) at -rate
//     msgs/s each; sent_per_s, acked.
//   - sub: -c subscribers on filter -t for -duration; delivered_per_s, and
//     latency of payloads stamped by a `pub` run.
//   - pairs (-c publisher/subscriber pairs on distinct topics), fanin (-c
//     publishers, one subscriber on prefix/+), fanout (one publisher, -c
//     subscribers on one topic), latency (one pair at -rate, default 1000):
//     self-contained flows.
//
// # Flow lifecycle
//
// Subscribers connect and hold their subscription before any publisher
// connects. Publishing then runs -warmup (not counted) plus -duration (the
// measured window) and stops; the drain waits, at most -drain and at most
// -stall (default one second) without progress, for deliveries and
// acknowledgements still in flight. Rates are over the window; sent, acked, delivered, expected and
// loss cover the whole run: expected = sent x fan at QoS 0, acknowledged
// (PUBACK, or PUBCOMP at QoS 2) x fan at QoS 1 and 2; loss = expected -
// delivered. Latency (lat_us) is send stamp to receipt for messages sent in
// the window.
//
// # Staying cheap
//
// The techniques of the reference generator (tools/mqttload), so the two
// measure the same way:
//
//   - A publisher writes 64 KiB batches of one pre-encoded PUBLISH, patching
//     only the packet ids (QoS>0) and an 8-byte wall-clock send stamp, read
//     once per batch. At full speed a QoS>0 publisher keeps at most -inflight
//     (and the v5 Receive Maximum) unacknowledged and writes again once a
//     quarter of that window is free.
//   - A receiver parses fixed header, topic and packet id in a 256 KiB
//     buffer and answers all QoS 1/2 deliveries of one read in one write.
//   - Subscriber sockets get SO_RCVLOWAT 16 KiB (-lowat) with a read deadline
//     of -maxwait, so the tool wakes up once per ~200 messages and never
//     holds a tail back for long; sub_wait_reads_pct is the share of reads
//     that waited the full -maxwait. The latency scenario writes one message
//     per write and does not use it.
//   - A publisher's connection has one writer, the publisher: its receiver
//     queues PUBRELs for it rather than writing behind a blocked batch, so a
//     broker that stops reading while it writes cannot deadlock the tool.
//
// # Output
//
// One JSON line on stdout (Result) and one summary line on stderr. CPU is
// sampled over the window: gen_cpu_pct (this process), broker_cpu_pct and
// broker_rss_kb_* of the broker process (-pid auto finds the local process
// listening on the port through /proc/net/tcp and /proc/*/fd), sys_busy_pct
// (% of all cores) and other_cpu_pct (the rest of the machine, % of one
// core: high means the run was disturbed). Exit status: 0 ok, 1 failed run
// (JSON with "error"), 2 bad command line, 3 watchdog.
//
// # Bounds
//
// Only loopback addresses (127.0.0.0/8, ::1) are accepted, -duration is at
// most 10m, and a watchdog ends any run that overstays its configured time
// (setup, warmup, duration, write grace, drain, hold) by 30 s.
package loadgen
