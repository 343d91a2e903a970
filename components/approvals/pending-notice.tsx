import Link from 'next/link';
import { utc } from '@/lib/format';

export interface PendingRequest {
  id: string;
  summary: string;
  requesterEmail: string;
  expiresAt: Date;
}

/** A section's pending requests for a second person: what waits, from whom, until when. */
export function PendingNotice({ requests }: { requests: PendingRequest[] }) {
  if (requests.length === 0) return null;
  return (
    <div
      role="status"
      className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900"
    >
      {requests.map((r) => (
        <p key={r.id} data-pending-request={r.id}>
          Waiting for a second person: {r.summary}, asked by {r.requesterEmail}, until {utc(r.expiresAt)}.{' '}
          <Link href="/approvals" className="font-medium underline">
            Open on Approvals
          </Link>
        </p>
      ))}
    </div>
  );
}
