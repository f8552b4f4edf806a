# syntax=docker/dockerfile:1

# Build: a static binary (no cgo: modernc SQLite is pure Go).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/imagedash ./cmd/imagedash \
 && mkdir -p /out/data

# Run: distroless, no shell, non-root (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/imagedash /imagedash
# An empty /data owned by the non-root user, so the volume starts writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
EXPOSE 8080
# distroless has no curl: the binary checks itself (GET /healthz on 127.0.0.1:8080).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/imagedash", "healthcheck"]
ENTRYPOINT ["/imagedash"]
CMD ["--addr", "0.0.0.0:8080", "--data", "/data/imagedash.db"]
