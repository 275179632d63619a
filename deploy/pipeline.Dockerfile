# The example pipeline of docker-compose.yaml. By default it uses the
# victorialogs flavor: it writes over OTLP/HTTP to the collector
# ($OTEL_EXPORTER_OTLP_ENDPOINT) and reads its logs back from VictoriaLogs
# ($RUNLOG_VICTORIALOGS_URL). The compose file's loki profile runs the same
# image with `-store otel` (collector in front of Loki, $RUNLOG_LOKI_URL).
# Build context: the repository.
FROM golang:1.26
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Compiled once here rather than by `go run` at every start.
RUN go build -trimpath -o /usr/local/bin/pipeline ./examples/pipeline
# The backend shows records a moment after the collector has taken them:
# wait up to 10 s for every step's logs before printing them.
ENTRYPOINT ["pipeline", "-fetch-wait", "10s"]
CMD ["-store", "victorialogs"]
