'use client';

import { useQuery } from '@tanstack/react-query';
import { apiGet } from '@/components/api';

/**
 * The navigation's count of requests waiting for this person (and of unreviewed break-glass), polled
 * every 20 s so that approvers learn of a request without reloading.
 */
export function ApprovalsBadge() {
  const { data } = useQuery({
    queryKey: ['approval-counts'],
    // A poll, not a person: it leaves the session's idle deadline alone.
    queryFn: () =>
      apiGet<{ waitingForYou: number; breakGlassUnreviewed: number }>('/api/approvals/count', undefined, {
        background: true,
      }),
    refetchInterval: 20_000,
  });
  if (!data) return null;
  const { waitingForYou, breakGlassUnreviewed } = data;
  return (
    <>
      {waitingForYou > 0 && (
        <span
          data-testid="approvals-badge"
          className="ml-1 rounded-full bg-amber-500 px-1.5 text-xs font-semibold text-white"
          aria-label={`${waitingForYou} waiting for your approval`}
        >
          {waitingForYou}
        </span>
      )}
      {breakGlassUnreviewed > 0 && (
        <span
          data-testid="break-glass-badge"
          className="ml-1 rounded-full bg-red-700 px-1.5 text-xs font-semibold text-white"
          aria-label={`${breakGlassUnreviewed} break-glass not reviewed`}
        >
          !
        </span>
      )}
    </>
  );
}
