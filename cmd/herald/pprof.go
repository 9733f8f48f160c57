package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
)

// startPprof serves net/http/pprof on node.pprof_bind (e.g. 127.0.0.1:6060)
// when it is set; it is for profiling, off by default.
func startPprof(addr string, log *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Error("pprof", "err", err)
		}
	}()
	log.Info("pprof enabled", "addr", addr)
}
