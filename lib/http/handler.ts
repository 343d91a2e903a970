import { headers } from 'next/headers';
import { databaseUnavailable, type Db, getDatabase } from '@/db/client';
import { currentStaff } from '@/lib/auth/current';
import { type Permission, requirePermission } from '@/lib/auth/permissions';
import type { RequestMeta, StaffCtx } from '@/lib/auth/session';
import { ApprovalPending } from '@/lib/approvals/gate';
import { config } from '@/lib/config';
import { AppError, TooManyRequestsError, UnauthenticatedError } from '@/lib/errors';
import { noteRequest } from '@/lib/http/access-log';
import { requestMeta } from '@/lib/http/request-meta';
import { type RequestFields, requestLog } from '@/lib/log';

/** What a public route (sign-in, enrolment) hands its service: the database and the request's metadata. */
export interface PublicCtx {
  db: Db;
  meta: RequestMeta;
}

type Params = Record<string, string>;

/** What a 503 during a database outage asks the client to wait. */
const RETRY_AFTER_S = 5;

/**
 * A route handler for signed-in staff: checks the session on this request (401), the permission (403),
 * the Origin of writes, parses the JSON body, and maps errors to JSON answers.
 */
export function staffRoute<P extends Params = Params>(
  fn: (ctx: StaffCtx, body: unknown, params: P) => Promise<unknown>,
  opts: { permission?: Permission } = {},
) {
  return (req: Request, { params }: { params: Promise<P> }) =>
    answer(req, async (who) => {
      const ctx = await currentStaff();
      if (!ctx) throw new UnauthenticatedError();
      who.staffId = ctx.staffId;
      who.orgId = ctx.acting?.orgId ?? null;
      if (opts.permission) requirePermission(ctx, opts.permission);
      return fn(ctx, await body(req), await params);
    });
}

/** A route handler that needs no session: the sign-in and enrolment ceremonies. */
export function publicRoute(fn: (ctx: PublicCtx, body: unknown) => Promise<unknown>) {
  return (req: Request) =>
    answer(req, async () => {
      const { db } = await getDatabase();
      return fn({ db, meta: requestMeta(await headers()) }, await body(req));
    });
}

async function body(req: Request): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const text = await req.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError(400, 'invalid', 'The request body is not valid JSON.');
  }
}

/**
 * Answers the request, and hands its staff member and acting organisation to the request's access line,
 * which lib/http/access-log.ts writes for every request (route handlers, pages and the rest alike).
 */
async function answer(req: Request, run: (who: RequestFields) => Promise<unknown>): Promise<Response> {
  const who: RequestFields = { requestId: (await headers()).get('x-request-id') };
  try {
    return await respond(req, who, run);
  } finally {
    noteRequest({ staffId: who.staffId ?? null, orgId: who.orgId ?? null });
  }
}

async function respond(
  req: Request,
  who: RequestFields,
  run: (who: RequestFields) => Promise<unknown>,
): Promise<Response> {
  const { requestId } = who;
  try {
    // Writes must come from the portal's own pages: with SameSite=Strict cookies, this closes CSRF.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const origin = req.headers.get('origin');
      if (origin !== config().PORTAL_URL) {
        throw new AppError(403, 'bad_origin', 'This request did not come from the portal’s own pages.');
      }
    }
    const result = await run(who);
    // A handler that streams (the audit export) builds its own Response.
    if (result instanceof Response) return result;
    // A dual-controlled write was stored as a request for a second person: accepted, not done.
    if (result instanceof ApprovalPending)
      return Response.json(result, { status: 202, headers: { 'cache-control': 'no-store' } });
    return Response.json(result ?? { ok: true }, { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    if (err instanceof AppError) {
      const extra =
        err instanceof TooManyRequestsError ? { 'retry-after': String(err.retryAfterS) } : undefined;
      return Response.json(
        { error: err.code, message: err.message, ...err.extra },
        { status: err.status, headers: { 'cache-control': 'no-store', ...extra } },
      );
    }
    if (databaseUnavailable(err)) {
      requestLog(who).error({ err, path: new URL(req.url).pathname }, 'database unavailable');
      return Response.json(
        {
          error: 'unavailable',
          message:
            'The portal cannot reach its database just now. Try again in a few seconds, and check whether a change you sent was saved before you repeat it.',
        },
        { status: 503, headers: { 'cache-control': 'no-store', 'retry-after': String(RETRY_AFTER_S) } },
      );
    }
    requestLog(who).error({ err, path: new URL(req.url).pathname }, 'unhandled error in route');
    return Response.json(
      {
        error: 'internal',
        message: `Something went wrong on the server. Request id: ${requestId ?? 'unknown'}.`,
      },
      { status: 500 },
    );
  }
}
