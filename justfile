# EventStreams in Go: common tasks. `just --list` shows them.

# Run the whole system in one process (embedded NATS, two Kafka clusters, ingest, serve on :8092); -upstream URL relays an EventStreams instead
dev *ARGS:
    go run ./infra/devstack {{ARGS}}

# Run the tests (the README's test command)
test:
    go vet ./... && go test ./...

# Benchmark ingest (kfake → JetStream; on a 3-node cluster, sync policies compared), NATS's cost of serve's live feeds, and serve (1,000 and 15,000 SSE clients, 5,000 and 1,000 at 50/s against the floors, reconnect storms from the ring and from JetStream against a raw-replay floor, 19,000 held connections)
bench:
    go test ./ingest/mirror -run '^$' -bench 'Ingest$' -benchtime 3x
    go test ./ingest/mirror -run '^$' -bench IngestCluster -benchtime 3x
    go run ./infra/feedbench -feeds 0,20,0,50,0,20,0 -rate 500 -duration 20s
    go run ./infra/feedbench -feeds 1,10,20 -preload 16384
    go run ./infra/servebench -clients 1000 -rate 10 -duration 20s
    go run ./infra/servebench -clients 15000 -rate 10 -duration 20s
    go run ./infra/servebench -clients 5000 -rate 10 -duration 20s -server serve,floor,floor-goroutine -rounds 2
    go run ./infra/servebench -clients 1000 -rate 50 -duration 20s -server serve,floor,floor-goroutine -rounds 2
    go run ./infra/servebench -mode storm -clients 1000 -storm-events 1000
    go run ./infra/servebench -mode storm -clients 1000 -storm-events 1000 -ring-size 16
    go run ./infra/servebench -clients 19000 -rate 1 -duration 30s -source-addrs 4 -connect-timeout 60s

# Fuzz everything serve parses from a request, each target for BUDGET executions (their seeds also run in `just test`).
# A count, not a duration: Go 1.26's fuzz coordinator can fail a duration budget at its deadline with a bare
# "context deadline exceeded" and no failing input (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
fuzz BUDGET="100000x":
    for t in FuzzParseLastEventID FuzzParseSince FuzzParseSeq FuzzIDRoundTrip FuzzEarliestTimestamp FuzzSinceRoundTrip; do go test ./shared/position -run '^$' -fuzz "^$t\$" -fuzztime {{BUDGET}} -fuzzminimizetime 5s || exit 1; done
    go test ./serve/filter -run '^$' -fuzz '^FuzzParse$' -fuzztime {{BUDGET}} -fuzzminimizetime 5s
    go test ./shared/catalog -run '^$' -fuzz '^FuzzResolve$' -fuzztime {{BUDGET}} -fuzzminimizetime 5s
    go test ./shared/catalog -run '^$' -fuzz '^FuzzParse$' -fuzztime {{BUDGET}} -fuzzminimizetime 5s
    go test ./serve/api -run '^$' -fuzz '^FuzzStreamRequest$' -fuzztime {{BUDGET}} -fuzzminimizetime 5s

# Take the README's screenshots of the web UI and /?doc with headless Chromium, into docs/
screenshots:
    ES_SCREENSHOTS="$PWD/docs" go test ./serve/ui -run '^TestScreenshots$' -count=1 -v

# Check formatting, vet, and golangci-lint with the repository's .golangci.yml
lint:
    test -z "$(gofmt -l $(git ls-files '*.go'))" || (gofmt -l $(git ls-files '*.go'); exit 1)
    go vet ./...
    go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0 run ./...

# Format the Go code
fmt:
    gofmt -w $(git ls-files '*.go')

# Print the Helm chart's manifests rendered with the production-like values (Helm's Go packages; no helm binary)
helm:
    go run ./infra/helmcheck/cmd/helmtemplate -f infra/helm/eventstreams/values-production.yaml

# Start the compose stack (Kafka ×2, MirrorMaker, NATS ×3, producer, ingest, serve ×2, nginx on :8092)
up:
    docker compose up --build -d

# Start the compose relay profile: ingest reading stream.wikimedia.org (or RELAY_UPSTREAM) and serve on :8093
relay:
    docker compose --profile relay up --build -d serve-relay

# Stop the compose stack and remove its volumes
down:
    docker compose down -v
