package pebble

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2/record"
)

// reportWALTail reads the newest WAL in dir before Pebble replays it and
// logs a warning when the log does not end cleanly (a record torn by a
// crash, or damage): Pebble recovers the records before that point and
// drops the rest without a word above debug level. A clean close ends the
// log with an EOF trailer; a log reused from an older one after a crash
// also counts as not clean, since its stale tail cannot be told from damage.
func reportWALTail(dir string, log *slog.Logger) {
	path, num, ok := newestWALFile(dir)
	if !ok {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		log.Warn("pebble store: cannot read the newest WAL", "wal", path, "err", err)
		return
	}
	defer f.Close()
	r := walReader(record.NewReader, f, num)
	for records := 0; ; records++ {
		end := r.Offset()
		rec, err := r.Next()
		if err == nil {
			_, err = io.Copy(io.Discard, rec)
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			size := int64(-1)
			if fi, serr := f.Stat(); serr == nil {
				size = fi.Size()
			}
			log.Warn("pebble store: the newest WAL does not end cleanly (the node stopped abruptly, or the file is damaged); recovering the records before the damaged tail",
				"wal", path, "records", records, "offset", end, "size", size, "err", err)
			return
		}
	}
}

// walReader calls record.NewReader, whose log number type Pebble declares in
// an internal package.
func walReader[N ~uint64](newReader func(io.Reader, N) *record.Reader, r io.Reader, num uint64) *record.Reader {
	return newReader(r, N(num))
}

// newestWALFile returns the path and number of the WAL with the highest
// number in dir.
func newestWALFile(dir string) (string, uint64, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", 0, false
	}
	var best uint64
	bestName := ""
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil && (bestName == "" || n > best) {
			best, bestName = n, e.Name()
		}
	}
	if bestName == "" {
		return "", 0, false
	}
	return filepath.Join(dir, bestName), best, true
}
