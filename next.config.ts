import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // deploy/Dockerfile ships .next/standalone (server.js and only the traced node_modules). Always on, so
  // that every build, CI's included, traces what the image will hold. `next start` still serves .next;
  // `npm start` (scripts/start.ts) hands it the build's serialised configuration as server.js does
  // (__NEXT_PRIVATE_STANDALONE_CONFIG), so it serves with what the image serves with and does not warn
  // that it "does not work" with standalone output. A bare `next start` (e2e replica B, the fault spec)
  // still prints that warning, which is not so for this app.
  output: 'standalone',
  // PGlite ships WebAssembly and data files that must be loaded from node_modules, not bundled.
  // OpenTelemetry (lib/tracing.ts) is loaded only when traces are switched on.
  serverExternalPackages: [
    '@electric-sql/pglite',
    'postgres',
    'pino',
    '@opentelemetry/api',
    '@opentelemetry/core',
    '@opentelemetry/context-async-hooks',
    '@opentelemetry/sdk-trace',
    '@opentelemetry/exporter-trace-otlp-http',
    '@opentelemetry/resources',
  ],
  poweredByHeader: false,
  // forbidden() and unauthorized(): a page answers 403 or 401 itself, not only a redirect.
  experimental: { authInterrupts: true },
};

export default nextConfig;
