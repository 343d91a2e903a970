import type { ReadableSpan, SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { isSecretField, REDACTED } from '@/lib/audit/redact';
import type { Config } from '@/lib/config';

/** An enrolment link's token, which Next's own spans would otherwise carry in their URL attributes. */
const ENROL_TOKEN = /(\/enroll\/)[^/?#\s]+/g;

/**
 * OpenTelemetry traces, off by default (OTEL_TRACES_ENABLED). When on, Next's own spans (requests,
 * rendering, route handlers) go to OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP, with enrolment tokens and
 * secret-named attributes redacted first. Called once, from instrumentation.ts.
 */
export async function startTracing(c: Config): Promise<TracerProvider | undefined> {
  if (!c.OTEL_TRACES_ENABLED || !c.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const [{ context, propagation, trace }, core, hooks, sdk, exporter, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const otlp = new exporter.OTLPTraceExporter({
    url: `${c.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`,
  });
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': c.OTEL_SERVICE_NAME }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: redacting(otlp) })],
  });
  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => void provider.shutdown().catch(() => {}));
  return provider;
}

/** Wraps an exporter so that no span leaves with a secret-named attribute or an enrolment token. */
export function redacting(inner: SpanExporter): SpanExporter {
  return {
    export(spans, done) {
      for (const span of spans) redactSpan(span);
      inner.export(spans, done);
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

function redactSpan(span: ReadableSpan): void {
  const attributes = span.attributes as Record<string, unknown>;
  for (const [key, value] of Object.entries(attributes)) {
    if (isSecretField(key)) attributes[key] = REDACTED;
    else if (typeof value === 'string') attributes[key] = value.replace(ENROL_TOKEN, `$1${REDACTED}`);
  }
}
