'use client';

import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { TextField } from '@/components/orgs/fields';
import { Alert } from '@/components/ui/alert';
import { Feedback } from '@/components/ui/feedback';
import { Button } from '@/components/ui/button';
import type { RunView } from '@/lib/queries/audit-chain';
import { num, pct, utc } from '@/lib/format';

async function fetchRun(id: string): Promise<RunView> {
  const res = await fetch(`/api/audit/verify/${id}`, { cache: 'no-store' });
  const data = (await res.json().catch(() => ({}))) as RunView & { error?: string; message?: string };
  if (!res.ok)
    throw new ApiError(
      res.status,
      data.error ?? 'error',
      data.message ?? `The server answered ${res.status}.`,
      data,
    );
  return data;
}

/** The verdict of a finished run, in words. */
export function Verdict({ run }: { run: RunView }) {
  const r = run.result ?? {};
  const checkpoint = r.checkpoint as { seq: number; signed_at: string; key_id: string } | undefined;
  const against = checkpoint
    ? `It matches the signed checkpoint of seq ${num(checkpoint.seq)} (${utc(checkpoint.signed_at)}, key ${checkpoint.key_id}).`
    : 'No signed checkpoint covers this range yet.';
  if (run.status === 'valid') {
    return (
      <Alert tone="success">
        <strong>Valid.</strong> {num(run.checked)} entries verified, seq {num(run.fromSeq)} to{' '}
        {num(run.toSeq)}. {against}
      </Alert>
    );
  }
  if (run.status === 'broken') {
    return (
      <Alert tone="error">
        <strong>Broken at seq {num(r.firstBadSeq as number)}</strong> ({String(r.kind)}): {String(r.detail)}.{' '}
        {num(run.checked)} entries before it verified.
      </Alert>
    );
  }
  if (run.status === 'interrupted') {
    return <Alert tone="warning">The process running this verification stopped. Start it again.</Alert>;
  }
  if (run.status === 'failed') {
    return <Alert tone="error">The verification could not run: {String(r.error ?? 'unknown error')}.</Alert>;
  }
  return null;
}

function Progress({ run }: { run: RunView }) {
  const share = run.total ? Math.min(1, run.checked / run.total) : 1;
  return (
    <div className="space-y-2" data-testid="verify-progress" data-status={run.status}>
      <progress
        className="h-3 w-full"
        max={Math.max(1, run.total)}
        value={run.checked}
        aria-label="Entries verified"
      />
      <p className="text-sm text-slate-700" role="status" aria-live="polite">
        {num(run.checked)} of {num(run.total)} entries checked ({pct(Math.round(share * 100))}) ·{' '}
        {num(run.ratePerS)} entries/s
        {run.status === 'running' && run.etaS !== null ? ` · about ${num(run.etaS)} s left` : ''}
        {run.status !== 'running' ? ` · ${run.elapsedS} s` : ''}
      </p>
    </div>
  );
}

/** "Verify chain": starts a run on the server, then polls its row until the verdict. */
export function VerifyPanel({ head }: { head: number }) {
  const router = useRouter();
  const [fromSeq, setFromSeq] = useState('');
  const [toSeq, setToSeq] = useState('');
  const [runId, setRunId] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const run = useQuery({
    queryKey: ['audit-verify-run', runId],
    queryFn: () => fetchRun(runId!),
    enabled: runId !== null,
    refetchInterval: (q) => (q.state.data && q.state.data.status !== 'running' ? false : 700),
  });
  const finished = run.data && run.data.status !== 'running';

  async function start(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { runId: id } = await apiPost<{ runId: string }>('/api/audit/verify', { fromSeq, toSeq });
      setRunId(id);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', ceremonyMessage(err), {}));
      // Someone else's run is under way: follow that one.
      const current =
        err instanceof ApiError ? (err.body.current as { runId?: string } | undefined) : undefined;
      if (current?.runId) setRunId(current.runId);
    } finally {
      setBusy(false);
    }
  }

  const running = runId !== null && !finished;
  // The list of recent runs below is the server's: refresh it once the verdict is in.
  useEffect(() => {
    if (finished) router.refresh();
  }, [finished, router]);
  return (
    <section
      aria-labelledby="verify-title"
      className="space-y-4 rounded-lg border border-slate-200 bg-white p-4"
    >
      <h2 id="verify-title" className="font-semibold">
        Verify chain
      </h2>
      <form onSubmit={start} className="flex flex-wrap items-end gap-3" noValidate>
        <TextField
          id="verify-from"
          label="First seq (optional)"
          inputMode="numeric"
          placeholder="1"
          className="w-36"
          value={fromSeq}
          onChange={(e) => setFromSeq(e.target.value)}
          error={error?.fields.fromSeq}
        />
        <TextField
          id="verify-to"
          label="Last seq (optional)"
          inputMode="numeric"
          placeholder={String(head)}
          className="w-36"
          value={toSeq}
          onChange={(e) => setToSeq(e.target.value)}
          error={error?.fields.toSeq}
        />
        <Button type="submit" disabled={busy || running}>
          {running ? 'Verifying…' : 'Verify chain'}
        </Button>
      </form>
      <p className="text-sm text-slate-600">
        Leave both empty to verify the whole chain (seq 1 to {num(head)} now). The run is checked against the
        signed checkpoints too, and audited.
      </p>
      <Feedback error={error} message={null} shown={['fromSeq', 'toSeq']} refused="Not started" />
      {run.error && <Alert tone="error">{(run.error as Error).message}</Alert>}
      {run.data && <Progress run={run.data} />}
      {run.data && finished && <Verdict run={run.data} />}
    </section>
  );
}
