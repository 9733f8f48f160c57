// Command herald runs a Herald MQTT broker node.
//
//	herald [start] [--config herald.toml] [--set key=value ...]   run a node
//	herald bench <scenario> [flags]                               load generator
//	herald passwd [-algorithm bcrypt] PASSWORD                     hash a password for the config file
//	herald version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/gctune"
	"github.com/herald-mqtt/herald/internal/server"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "start":
			args = args[1:]
		case "bench":
			return bench(args[1:], stdout, stderr)
		case "passwd":
			return passwd(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "herald", broker.Version)
			return 0
		}
	}
	cfg, err := config.Load(args, os.Environ())
	if errors.Is(err, config.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "herald:", err)
		return 2
	}
	return serve(cfg, stderr)
}

// serve runs a node until SIGINT or SIGTERM.
func serve(cfg config.Config, stderr io.Writer) int {
	level := new(slog.LevelVar)
	log := newLogger(cfg.Log, level, stderr)
	startPprof(cfg.Node.PprofBind, log)
	gctune.SetHeapFloor(uint64(cfg.Node.GCHeapFloor))
	srv, err := server.New(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "herald:", err)
		return 2
	}
	srv.SetLogLevel(level) // log.level changes through the API apply at once
	// Caught from before Start: the MQTT listeners accept while the rest
	// starts, and a SIGTERM then must shut down cleanly, not kill.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := srv.Start(); err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	got := <-sig
	log.Info("shutting down", "signal", got.String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

// newLogger builds the node's logger; level holds its level, set here
// from c and changed later by the server.
func newLogger(c config.Log, level *slog.LevelVar, w io.Writer) *slog.Logger {
	level.Set(server.LogLevel(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
