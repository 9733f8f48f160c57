package main

import (
	"io"

	"github.com/herald-mqtt/herald/internal/loadgen"
)

// bench runs the load generator (see internal/loadgen).
func bench(args []string, stdout, stderr io.Writer) int { return loadgen.Main(args, stdout, stderr) }
