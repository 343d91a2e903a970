import { Alert } from '@/components/ui/alert';
import { num } from '@/lib/format';

/** The audit pages' banner when the chain's head does not verify: appends are stopped, entries wait. */
export function BrokenHeadAlert({
  head,
}: {
  head: { seq: number; problem: string; waiting: number } | null;
}) {
  if (!head) return null;
  return (
    <Alert tone="error">
      <strong>The audit chain is stopped.</strong> {head.problem[0]!.toUpperCase() + head.problem.slice(1)},
      so nothing is chained onto it: {num(head.waiting)} {head.waiting === 1 ? 'entry waits' : 'entries wait'}{' '}
      in the inbox, and readiness is red. Repair the head from a backup and run a verification (docs/AUDIT.md,
      “A broken head”).
    </Alert>
  );
}
