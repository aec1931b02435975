# syntax=docker/dockerfile:1
# Build a static binary (pure-Go SQLite, CGO off) ...
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/wirewatch ./cmd/wirewatch \
 && mkdir -p /out/state

# ... and ship it on a minimal base with CA certificates and time zone data,
# as an unprivileged user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wirewatch /usr/local/bin/wirewatch
COPY --from=build --chown=65532:65532 /out/state /var/lib/wirewatch
# The configuration is /etc/wirewatch/config.toml. Mount a DIRECTORY at
# /etc/wirewatch (docker run -v "$PWD/conf:/etc/wirewatch:ro"), not the file
# alone: editors save a file by writing a new one and renaming it over the
# old, and a single-file bind mount keeps showing the old one, so hot reload
# would never see the edit. The example config is the default until then.
COPY config.example.toml /etc/wirewatch/config.toml
# State (the SQLite file) lives in the volume: store.path in the config is
# relative to the working directory.
WORKDIR /var/lib/wirewatch
VOLUME ["/var/lib/wirewatch"]
USER 65532:65532
EXPOSE 9090
# The image has no curl: the binary probes its own /healthz ([http] listen).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/wirewatch", "healthcheck", "-config", "/etc/wirewatch/config.toml"]
# Exec form: wirewatch is PID 1 and receives SIGTERM directly.
ENTRYPOINT ["/usr/local/bin/wirewatch"]
CMD ["run", "-config", "/etc/wirewatch/config.toml", "-log-format", "json"]
