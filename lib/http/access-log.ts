import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { log, loggableUrlText } from '@/lib/log';
import { observeRequest } from '@/lib/metrics/http';

/** What the code serving a request can add to its access line. */
interface AccessFields {
  staffId: string | null;
  orgId: string | null;
}

interface State {
  als: AsyncLocalStorage<AccessFields>;
  /** Servers whose requests are not logged: the metrics listener. */
  quiet: WeakSet<Server>;
  started: boolean;
}

// On globalThis: Next loads this module once for instrumentation.ts and again in the routes' bundles, and
// both must share the request's fields.
const shared = globalThis as { __portalAccessLog?: State };
function state(): State {
  return (shared.__portalAccessLog ??= {
    als: new AsyncLocalStorage(),
    quiet: new WeakSet(),
    started: false,
  });
}

/** The staff member and acting organisation of the request being served, for its access line. */
export function noteRequest(fields: { staffId?: string | null; orgId?: string | null }): void {
  const store = state().als.getStore();
  if (!store) return;
  if (fields.staffId !== undefined) store.staffId = fields.staffId;
  if (fields.orgId !== undefined) store.orgId = fields.orgId;
}

/** Requests to `server` get no access line (the metrics listener, scraped every few seconds). */
export function quietServer(server: Server): void {
  state().quiet.add(server);
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** A path as the access line shows it: no query string, no enrolment token. */
export function loggablePath(url: string | undefined): string {
  return loggableUrlText((url ?? '/').split(/[?#]/, 1)[0] || '/').slice(0, 512);
}

/**
 * One JSON access line (`msg: "request"`) for every request any HTTP server of this process answers:
 * pages, static files, the probes, next-auth's callbacks, route handlers, the network gate's refusals.
 * It listens on Node's `http.server.request.start` diagnostics channel, which every http.Server publishes
 * before its request listener runs, so it is the same for `next start`, the image's standalone `server.js`
 * and `npm start`, and needs no custom server. The request's fields live in an AsyncLocalStorage entered
 * there, which the handlers' async work inherits (`noteRequest`). The line is written when the response
 * closes: `duration_ms` runs from the parsed headers to the last byte; `aborted` when the client went away
 * first. The duration also feeds the histogram of /metrics.
 *
 * Requests that arrive in the moment between Next's listen and register() are served but not logged.
 */
export function startAccessLog(): void {
  const s = state();
  if (s.started) return;
  s.started = true;
  diagnostics.subscribe('http.server.request.start', (message) => {
    const { request, response, server } = message as {
      request: IncomingMessage;
      response: ServerResponse;
      server: Server;
    };
    if (s.quiet.has(server)) return;
    const started = performance.now();
    const fields: AccessFields = { staffId: null, orgId: null };
    s.als.enterWith(fields);
    response.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const method = request.method ?? 'GET';
      const path = loggablePath(request.url);
      const status = response.statusCode;
      observeRequest(method, path, status, seconds);
      const answered = response.getHeader('x-request-id');
      const sent = request.headers['x-request-id'];
      const requestId =
        typeof answered === 'string' && REQUEST_ID.test(answered)
          ? answered
          : typeof sent === 'string' && REQUEST_ID.test(sent)
            ? sent
            : crypto.randomUUID();
      log.info(
        {
          request_id: requestId,
          staff_id: fields.staffId,
          org_id: fields.orgId,
          method,
          path,
          status,
          duration_ms: Math.round(seconds * 10_000) / 10,
          ...(!response.writableFinished && { aborted: true }),
        },
        'request',
      );
    });
  });
}
