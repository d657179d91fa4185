# syntax=docker/dockerfile:1

# Ticket Watchdog image: a static watchdogd on distroless, running as nonroot.
#
#   docker build -t watchdogd .                      # the server (last stage)
#   docker build --target mockslack -t mockslack .   # the Slack stand-in
#
# Checked by infra/deploy_test.go (stages, USER, HEALTHCHECK, EXPOSE,
# CGO_ENABLED=0); not built in CI, which has no Docker daemon.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/watchdogd ./cmd/watchdogd && \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/mockslack ./cmd/mockslack && \
    mkdir -p /out/data

# The Slack stand-in for the compose stack, demos and benchmarks.
FROM gcr.io/distroless/static-debian12:nonroot AS mockslack
COPY --from=build /out/mockslack /usr/local/bin/mockslack
USER nonroot:nonroot
ENV MOCKSLACK_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/mockslack", "-healthcheck"]
ENTRYPOINT ["/usr/local/bin/mockslack"]

# The server. Distroless has no shell, curl or wget: the health check is
# watchdogd's own `healthcheck` subcommand (GET /healthz on 127.0.0.1:$API_PORT).
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/watchdogd /usr/local/bin/watchdogd
COPY sla_config.yaml /etc/watchdog/sla_config.yaml
# /data holds the embedded SQLite file (./watchdog.db) when DATABASE_URL is
# empty; it is owned by nonroot so a named volume mounted there is writable.
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
VOLUME ["/data"]
ENV SLA_CONFIG_PATH=/etc/watchdog/sla_config.yaml \
    API_HOST=0.0.0.0 \
    API_PORT=8000
USER nonroot:nonroot
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/watchdogd", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/watchdogd"]
CMD ["serve"]
