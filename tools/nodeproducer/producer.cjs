// A pipeline step written in Node.js with the official OpenTelemetry JS
// SDK, and nothing of runlog: runlog's integration tests run it to prove
// that records from a foreign writer are found, shown and accounted for.
//
//   NODE_PATH="$(tools/node.sh path)/node_modules" node tools/nodeproducer/producer.cjs --layout cicd --run R --step S [--step-name N] [--count 200] [--service checkout-js]
//
// It logs --count records (record i at DEBUG, INFO, WARN or ERROR as i
// mod 4 is 0, 1, 2 or 3; strictly increasing nanosecond timestamps; body
// "node record i of N"; attributes of several types) through a LoggerProvider with a BatchLogRecordProcessor
// and the OTLP/HTTP protobuf exporter, which reads its endpoint from the
// standard variables (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else
// OTEL_EXPORTER_OTLP_ENDPOINT plus /v1/logs). It shuts the provider down
// before it exits, and exits 1 when any export failed: the SDK itself only
// reports a failed export through its diagnostics logger.
//
// Where the run and step go is the layout (--layout, else
// $RUNLOG_NODE_LAYOUT):
//
//   cicd    resource attributes cicd.pipeline.run.id,
//           cicd.pipeline.task.run.id, cicd.pipeline.task.name and a
//           service.name of its own (the OpenTelemetry CI/CD conventions)
//   record  the run and step only as log-record attributes (same names);
//           the resource has only service.name
//   zenml   as ZenML's OpenTelemetry log store writes a step's logs:
//           log-record attributes zenml.pipeline.run.id, zenml.step.run.id,
//           zenml.step.run.name, zenml.source, zenml.log.id,
//           zenml.log.source, ... and resource service.name "zenml"
//
// On success it prints one JSON line to stdout: the layout, the number of
// records and the first and last timestamps in nanoseconds.
//
// It is CommonJS so that NODE_PATH finds the packages, which tools/node.sh
// installs in a cache outside the repository (ES modules ignore NODE_PATH).

'use strict';

const { randomUUID } = require('node:crypto');
const { parseArgs } = require('node:util');

const { SeverityNumber } = require('@opentelemetry/api-logs');
const { ExportResultCode } = require('@opentelemetry/core');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchLogRecordProcessor, LoggerProvider } = require('@opentelemetry/sdk-logs');

const usage =
  'usage: node producer.cjs --layout cicd|record|zenml --run RUN --step STEP ' +
  '[--step-name NAME] [--count N] [--service NAME] [--source SOURCE]';

function fail(msg) {
  process.stderr.write(`nodeproducer: ${msg}\n`);
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      layout: { type: 'string', default: process.env.RUNLOG_NODE_LAYOUT || 'cicd' },
      run: { type: 'string' },
      step: { type: 'string' },
      'step-name': { type: 'string' },
      count: { type: 'string', default: '200' },
      service: { type: 'string' },
      source: { type: 'string', default: 'step' },
    },
    strict: true,
  }));
} catch (err) {
  fail(`${err.message}\n${usage}`);
}
if (!opts.run) fail(`--run is required\n${usage}`);
if (!opts.step) fail(`--step is required\n${usage}`);
const count = Number(opts.count);
if (!Number.isInteger(count) || count < 1) fail(`--count ${opts.count}: want a whole number of 1 or more`);
const stepName = opts['step-name'] || opts.step;

// The layouts: the resource, and the attributes every record carries.
let resourceAttrs;
let recordAttrs;
let loggerName = 'nodeproducer';
switch (opts.layout) {
  case 'cicd':
    resourceAttrs = {
      'service.name': opts.service || 'checkout-js',
      'cicd.pipeline.run.id': opts.run,
      'cicd.pipeline.task.run.id': opts.step,
      'cicd.pipeline.task.name': stepName,
    };
    recordAttrs = {};
    break;
  case 'record':
    resourceAttrs = { 'service.name': opts.service || 'billing-api' };
    recordAttrs = {
      'cicd.pipeline.run.id': opts.run,
      'cicd.pipeline.task.run.id': opts.step,
      'cicd.pipeline.task.name': stepName,
    };
    break;
  case 'zenml': {
    // OtelLogStore: Resource.create({service.name: config.service_name
    // ("zenml" by default), service.version}); every record gets the
    // origin's metadata, each key prefixed with "zenml." (the step's
    // get_step_log_metadata: run, project, pipeline, stack, user and step
    // run ids and names, plus source), then zenml.log.id,
    // zenml.log.source, zenml.log_store.id and zenml.log_store.name, on
    // top of what Python's LoggingHandler translates (code.*).
    resourceAttrs = { 'service.name': opts.service || 'zenml', 'service.version': '0.93.0' };
    recordAttrs = {
      'zenml.pipeline.run.id': opts.run,
      'zenml.pipeline.run.name': `${stepName}-pipeline-run`,
      'zenml.project.id': randomUUID(),
      'zenml.project.name': 'default',
      'zenml.pipeline.id': randomUUID(),
      'zenml.pipeline.name': `${stepName}-pipeline`,
      'zenml.stack.id': randomUUID(),
      'zenml.stack.name': 'default',
      'zenml.user.id': randomUUID(),
      'zenml.user.name': 'default',
      'zenml.step.run.id': opts.step,
      'zenml.step.run.name': stepName,
      'zenml.source': opts.source,
      'zenml.log.id': randomUUID(),
      'zenml.log.source': opts.source,
      'zenml.log_store.id': randomUUID(),
      'zenml.log_store.name': 'otel',
      'code.file.path': '/app/steps/train.py',
      'code.function.name': 'train',
    };
    loggerName = `zenml.pipeline_run.${stepName}-pipeline-run.step.${stepName}.${opts.source}`;
    break;
  }
  default:
    fail(`--layout ${opts.layout}: use cicd, record or zenml`);
}

// An exporter that remembers failures, around the SDK's own.
const otlp = new OTLPLogExporter();
let failures = 0;
let lastError;
const exporter = {
  export(logs, done) {
    otlp.export(logs, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        failures += logs.length;
        lastError = result.error;
      }
      done(result);
    });
  },
  forceFlush: () => otlp.forceFlush(),
  shutdown: () => otlp.shutdown(),
};

const provider = new LoggerProvider({
  resource: resourceFromAttributes(resourceAttrs),
  processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 512, scheduledDelayMillis: 200 })],
});
const logger = provider.getLogger(loggerName, '1.0.0');

const severities = [
  [SeverityNumber.DEBUG, 'DEBUG'],
  [SeverityNumber.INFO, 'INFO'],
  [SeverityNumber.WARN, 'WARN'],
  [SeverityNumber.ERROR, 'ERROR'],
];

// Nanosecond timestamps, strictly increasing: Date.now() has milliseconds
// only, and records that tie would have no order to be shown in.
const hr0 = process.hrtime.bigint();
const wall0 = BigInt(Date.now()) * 1000000n;
let last = 0n;
function now() {
  let t = wall0 + (process.hrtime.bigint() - hr0);
  if (t <= last) t = last + 1n;
  last = t;
  return t;
}
const hrTime = (ns) => [Number(ns / 1000000000n), Number(ns % 1000000000n)];

let first = 0n;
for (let i = 1; i <= count; i++) {
  let [severityNumber, severityText] = severities[i % severities.length];
  // ZenML's records carry Python's level names.
  if (opts.layout === 'zenml' && severityText === 'WARN') severityText = 'WARNING';
  const t = now();
  if (i === 1) first = t;
  logger.emit({
    timestamp: hrTime(t),
    observedTimestamp: hrTime(t),
    severityNumber,
    severityText,
    body: `node record ${i} of ${count}`,
    attributes: {
      ...recordAttrs,
      ...(opts.layout === 'zenml' ? { 'code.line.number': 40 + i } : {}),
      'node.index': i,
      'node.even': i % 2 === 0,
      'node.ratio': i / count,
      'node.layout': opts.layout,
    },
  });
}

// No top-level await in CommonJS.
provider.shutdown().then(report, (err) => {
  failures = failures || count;
  lastError = err;
  report();
});

function report() {
  if (failures > 0) {
    const where =
      process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'the default endpoint';
    process.stderr.write(
      `nodeproducer: ${failures} of ${count} records were not exported to ${where}: ${lastError?.message ?? lastError}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(
    JSON.stringify({ layout: opts.layout, records: count, first_ns: String(first), last_ns: String(last) }) + '\n',
  );
}
