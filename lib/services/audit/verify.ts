import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, databaseUrl, rows } from '@/db/client';
import { auditVerifyRuns } from '@/db/schema';
import { type AuditCtx, withAudit } from '@/lib/audit';
import type { VerifyOptions, VerifyResult } from '@/lib/audit/verify';
import { bundledWorker, verifyChainParallel } from '@/lib/audit/verify-parallel';
import { config } from '@/lib/config';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { ConflictError, parseInput, ValidationError } from '@/lib/errors';
import { log } from '@/lib/log';

const Seq = z.coerce
  .number('a whole number')
  .int('a whole number')
  .min(1, 'at least 1')
  .max(Number.MAX_SAFE_INTEGER);
const optionalSeq = z.preprocess((v) => (v === '' || v === null ? undefined : v), Seq.optional());

export const VerifyInput = z
  .object({ fromSeq: optionalSeq, toSeq: optionalSeq })
  .refine((v) => v.fromSeq === undefined || v.toSeq === undefined || v.fromSeq <= v.toSeq, {
    path: ['toSeq'],
    message: 'must not be below the first seq',
  });

export type RunRow = typeof auditVerifyRuns.$inferSelect;

/** How a run verifies: in worker threads by default (portalVerifier); the command line passes its own. */
export type Verifier = (opts: VerifyOptions) => Promise<VerifyResult>;

/**
 * Where the worker bundle is (scripts/build-tools.ts): `.next/tools/` under `npm start`, `next start`,
 * e2e and vitest (its global setup builds it); `tools/` in the image (deploy/Dockerfile), whose server
 * runs in /app.
 */
export const WORKER_BUNDLES = ['.next/tools/verify-worker.mjs', 'tools/verify-worker.mjs'];

export function verifyWorkerFile(): string {
  for (const candidate of WORKER_BUNDLES) {
    const file = path.resolve(/* turbopackIgnore: true */ process.cwd(), candidate);
    if (fs.existsSync(/* turbopackIgnore: true */ file)) return file;
  }
  throw new Error(
    `the verification worker is not built (looked for ${WORKER_BUNDLES.join(' and ')} in ${process.cwd()}): run npm run build:tools`,
  );
}

/**
 * The workers' nice value: on Linux a thread's own, so the verification gets the CPU time that the
 * portal's requests leave over, and a page is not queued behind HMACs (docs/AUDIT.md).
 */
const WORKER_NICENESS = 10;

/**
 * The portal's verifier: verifyChainParallel in AUDIT_VERIFY_WORKERS worker threads (the bundle), so the
 * server's event loop stays free for requests and for writing progress. On PostgreSQL the workers read
 * the chain themselves (COPY); on the embedded database this thread reads 1,000 entries at a time and
 * the worker checks them.
 */
export function portalVerifier(db: Db): Verifier {
  return (opts) =>
    verifyChainParallel(db, {
      ...opts,
      url: databaseUrl(db),
      startWorker: bundledWorker(verifyWorkerFile()),
      workers: config().AUDIT_VERIFY_WORKERS,
      niceness: WORKER_NICENESS,
    });
}

/** A run's verdict as stored in `result` and in the audit entry. */
export type RunVerdict =
  | ({ ok: true } & Omit<Extract<VerifyResult, { ok: true }>, 'ok'>)
  | ({ ok: false } & Omit<Extract<VerifyResult, { ok: false }>, 'ok'>)
  | { ok: false; error: string };

/** Heartbeats older than this mean the process running the verification is gone. */
export const STALE_RUN_S = 60;
const PROGRESS_EVERY_MS = 500;

/**
 * Records the start of a verification of [fromSeq, toSeq] (default: the whole chain as it is now) as a
 * run row and its audit entry, in one transaction. The range is fixed here, so that the chain's growth
 * while it runs does not move the goal.
 */
export async function createRun(ctx: AuditCtx, raw: unknown, source: 'portal' | 'cli'): Promise<RunRow> {
  const input = parseInput(VerifyInput, raw);
  return withAudit(
    ctx,
    { action: 'audit.verify.started', targetType: 'audit_verify_run' },
    async (tx, audit) => {
      if (source === 'portal') {
        // One portal run at a time: each is a full pass over the chain in a server process.
        const [running] = await rows<{ id: string; requested_email: string }>(
          tx,
          sql`select id::text as id, requested_email from audit_verify_runs
            where status = 'running' and source = 'portal' and heartbeat_at > now() - make_interval(secs => ${STALE_RUN_S})
            limit 1`,
        );
        if (running) {
          throw new ConflictError(
            `A verification started by ${running.requested_email} is running; it is shown below.`,
            {
              runId: running.id,
            },
          );
        }
      }
      const [head] = await rows<{ seq: string | null }>(tx, sql`select max(seq)::text as seq from audit_log`);
      const headSeq = Number(head?.seq ?? 0);
      const fromSeq = input.fromSeq ?? 1;
      const toSeq = Math.min(input.toSeq ?? headSeq, headSeq);
      if (fromSeq > Math.max(headSeq, 1)) {
        throw new ValidationError({ fromSeq: `the chain ends at seq ${headSeq}` });
      }
      const [run] = await tx
        .insert(auditVerifyRuns)
        .values({
          requestedBy: ctx.actor.staffId,
          requestedEmail: ctx.actor.email ?? 'unknown',
          source,
          fromSeq,
          toSeq,
          runner: `${os.hostname()}:${process.pid}`,
        })
        .returning();
      audit.target('audit_verify_run', run!.id);
      audit.detail({ run_id: run!.id, from_seq: fromSeq, to_seq: toSeq, source });
      return run!;
    },
  );
}

/**
 * Runs a verification to its verdict: progress and a heartbeat go to the run row every half second (any
 * replica answers the page's polling from it), and the verdict is written to the row together with its
 * audit entry (`audit.verified`, outcome `failure` when the chain is broken or the run failed).
 */
export async function executeRun(
  ctx: AuditCtx,
  run: RunRow,
  verify: Verifier = portalVerifier(ctx.db),
  onProgress?: (checked: number) => void,
): Promise<RunVerdict> {
  const db = ctx.db;
  let written = 0;
  let writing: Promise<unknown> = Promise.resolve();
  const progress = (checked: number) => {
    onProgress?.(checked);
    const now = Date.now();
    if (now - written < PROGRESS_EVERY_MS) return;
    written = now;
    writing = writing
      .then(() =>
        db
          .update(auditVerifyRuns)
          .set({ checked, heartbeatAt: sql`now()` })
          .where(eq(auditVerifyRuns.id, run.id)),
      )
      .catch((err: unknown) => log.warn({ err, run_id: run.id }, 'could not record verification progress'));
  };

  let verdict: RunVerdict;
  if (run.toSeq < run.fromSeq) {
    verdict = { ok: true, checked: 0, headSeq: run.toSeq, headHmac: '' };
  } else {
    try {
      verdict = await verify({ fromSeq: run.fromSeq, toSeq: run.toSeq, onProgress: progress });
    } catch (err) {
      log.error({ err, run_id: run.id }, 'audit verification failed to run');
      verdict = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
  await writing;
  await finishRun(ctx, run.id, verdict);
  return verdict;
}

async function finishRun(ctx: AuditCtx, runId: string, verdict: RunVerdict) {
  const status = verdict.ok ? 'valid' : 'error' in verdict ? 'failed' : 'broken';
  await withAudit(
    ctx,
    {
      action: 'audit.verified',
      targetType: 'audit_verify_run',
      targetId: runId,
      outcome: verdict.ok ? 'success' : 'failure',
    },
    async (tx, audit) => {
      await tx
        .update(auditVerifyRuns)
        .set({
          status,
          checked: 'checked' in verdict ? verdict.checked : sql`${auditVerifyRuns.checked}`,
          result: verdict,
          finishedAt: sql`now()`,
          heartbeatAt: sql`now()`,
        })
        .where(eq(auditVerifyRuns.id, runId));
      audit.detail({ run_id: runId, status, ...verdict });
    },
  );
}

/**
 * "Verify chain" from the portal: the run is recorded, then verified in worker threads in the background
 * of this process while the page polls the run row. The POST answers at once, so its access line times
 * only the recording; the run's own line, at its end, gives the verification's duration.
 */
export async function startVerification(ctx: StaffCtx, raw: unknown): Promise<{ runId: string }> {
  requirePermission(ctx, 'audit.verify');
  const run = await createRun(ctx, raw, 'portal');
  const started = performance.now();
  const fields = { run_id: run.id, request_id: ctx.requestId, from_seq: run.fromSeq, to_seq: run.toSeq };
  log.info(fields, 'audit verification started in the background (the POST answers now)');
  void executeRun(ctx, run).then(
    (verdict) => {
      const durationMs = Math.round(performance.now() - started);
      const checked = 'checked' in verdict ? verdict.checked : null;
      log.info(
        {
          ...fields,
          status: verdict.ok ? 'valid' : 'error' in verdict ? 'failed' : 'broken',
          checked,
          duration_ms: durationMs,
          entries_per_s: checked === null ? null : Math.round(checked / Math.max(0.001, durationMs / 1000)),
        },
        'audit verification finished (ran in the background after its POST had answered)',
      );
    },
    (err: unknown) => log.error({ err, ...fields }, 'could not record the verdict of an audit verification'),
  );
  return { runId: run.id };
}

/**
 * Ends runs whose process stopped sending heartbeats (a replica that died or was redeployed), each with
 * its audited verdict `failed`. Every replica's ticker calls it; the UPDATE decides which one audits.
 */
export async function failAbandonedRuns(ctx: AuditCtx): Promise<number> {
  const abandoned = await ctx.db
    .update(auditVerifyRuns)
    .set({ status: 'failed', finishedAt: sql`now()` })
    .where(
      sql`${auditVerifyRuns.status} = 'running' and ${auditVerifyRuns.heartbeatAt} < now() - make_interval(secs => ${STALE_RUN_S})`,
    )
    .returning({ id: auditVerifyRuns.id });
  for (const { id } of abandoned) {
    const error = `the process running it stopped (no heartbeat for ${STALE_RUN_S} s)`;
    await finishRun(ctx, id, { ok: false, error });
  }
  return abandoned.length;
}
