import { ApprovalPending } from '@/lib/approvals/gate';
import type { StaffCtx } from '@/lib/auth/session';
import { approveRequest } from '@/lib/services/approvals/approvals';

/**
 * The second person of a dual-controlled write: when `result` is a stored request, `approver` approves it
 * and the verb's own result comes back. Anything else is returned as it is.
 */
export async function approvedBy<T>(result: Promise<T | ApprovalPending>, approver: StaffCtx): Promise<T> {
  const r = await result;
  if (!(r instanceof ApprovalPending)) return r;
  return (await approveRequest(approver, { id: r.approval.id })).result as T;
}

/** The verb's result of a write that needed no second person; a stored request fails the test. */
export async function written<T>(result: Promise<T | ApprovalPending>): Promise<T> {
  const r = await result;
  if (r instanceof ApprovalPending)
    throw new Error(`expected a direct write, got a request: ${r.approval.summary}`);
  return r;
}
