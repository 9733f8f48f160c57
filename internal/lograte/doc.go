// Package lograte keeps a flood of one kind of event (a reconnect storm, a
// brute-force login, a fleet of overflowing queues) from filling the disk
// with log lines. Its Handler wraps a slog.Handler and lets the records of
// each (level, message) pair through a token bucket: a burst, then a steady
// rate. Lines held back are counted, and Flush writes one summary line per
// message that lost lines ("log lines suppressed", with suppressed=N and the
// handler's suppressed_total), so the log itself says where it is
// incomplete and by how much.
//
// Records below Options.MinLevel (Info by default) are never held back.
// Herald's broker and service set it to Debug: debug lines are limited too,
// with a larger budget (DebugBurst, DebugRate), because debug is the level
// an operator turns on to see everything, and a storm must not fill the
// disk then either.
//
// The package imports only the standard library. The handler starts no
// goroutine: its owner calls Flush periodically and once more when it stops.
package lograte
