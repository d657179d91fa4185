# Ticket Watchdog — make targets. `make test` is the one test command (CI runs it).
GO ?= go
PKGS ?= ./...

.PHONY: test run build vet fmt generate bench fuzz postgres bench-micro

# Runs every test with the race detector, including the PostgreSQL suites
# (they use TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
test: postgres
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	# The deployment checks are a module of their own (infra/go.mod), so
	# that the library's users never pull their HCL parser.
	cd infra && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	# The scale-out test again at its full 10,000 tickets (2,000 under -race).
	$(GO) test -count=1 -timeout 10m -run '^TestScaleOutThreeEngines$$' ./internal/e2e/

# Starts the local PostgreSQL cluster when it is installed and not running.
postgres:
	@bash scripts/ensure-postgres.sh

run:
	$(GO) run ./cmd/watchdogd

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/...

vet:
	$(GO) vet $(PKGS)
	cd infra && $(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Regenerates the API client from api/openapi.yaml (oapi-codegen, pinned as
# a tool in go.mod); client's TestGeneratedCodeIsFresh fails until it is.
generate:
	$(GO) generate ./client/

# Micro-benchmarks of the hot paths.
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./ ./store/...

# Runs each fuzz target for FUZZTIME (default 60s).
FUZZTIME ?= 60s
fuzz:
	for t in $$($(GO) test -list 'Fuzz.*' . | grep ^Fuzz); do $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) . || exit 1; done

# The load harness (cmd/watchdog-bench) on SQLite and the local PostgreSQL:
# ingest vs COPY, scale (1M stored), alert lateness (also under a bulk
# import), the 100k-ticket catch-up, the notification drain and reports.
# Writes BENCHMARKS.md.
# BENCHFLAGS adds flags, e.g. BENCHFLAGS="-tickets 100000" for a quicker run.
BENCHFLAGS ?=
bench: postgres build
	./bin/watchdog-bench -spawn -db sqlite,postgres -markdown BENCHMARKS.md -notes cmd/watchdog-bench/notes.md $(BENCHFLAGS) all
