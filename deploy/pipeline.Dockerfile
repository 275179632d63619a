# The example pipeline of docker-compose.yaml: it writes over OTLP/HTTP to
# the collector ($OTEL_EXPORTER_OTLP_ENDPOINT) and reads its logs back from
# Loki ($RUNLOG_LOKI_URL), the otel flavor. Build context: the repository.
FROM golang:1.26
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Compiled once here rather than by `go run` at every start.
RUN go build -trimpath -o /usr/local/bin/pipeline ./examples/pipeline
# Loki answers a moment after the collector's batch: wait up to 10 s for
# every step's logs before printing them.
ENTRYPOINT ["pipeline", "-store", "otel", "-fetch-wait", "10s"]
