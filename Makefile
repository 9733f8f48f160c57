# Herald: build, test, benchmark, fuzz and check.
GO        ?= go
STATICCHECK_VERSION ?= v0.8.2
FUZZTIME  ?= 30s
TEST_TIMEOUT ?= 20m
BENCH_PKGS := ./internal/mqtt/... ./internal/broker/... ./internal/auth/... ./internal/storage/...
LOADTEST_PKGS := ./internal/loadgen/

.PHONY: all build test unit check fmt vet staticcheck deps logkeys bench fuzz clean

all: build

build:
	$(GO) build -o bin/herald ./cmd/herald

## test: static checks, then every test with the race detector.
test: check
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## unit: tests only, no static checks.
unit:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

check: fmt vet staticcheck deps logkeys

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags loadtest $(LOADTEST_PKGS)

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## deps: the import-direction rules of ARCHITECTURE.md.
deps:
	bash scripts/checkdeps.sh

## logkeys: one spelling per log key (clientid, username, peername, reason_code, reason).
logkeys:
	bash scripts/checklogkeys.sh

## bench: hot-path micro-benchmarks with allocation counts, then the tests
## whose figures need a quiet machine (rates, latencies, timing windows),
## kept out of `go test ./...` by the loadtest build tag.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS)
	$(GO) test -tags loadtest -count=1 -run 'Quiet' $(LOADTEST_PKGS)

## fuzz: every fuzz target for FUZZTIME (e.g. make fuzz FUZZTIME=5m).
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin
