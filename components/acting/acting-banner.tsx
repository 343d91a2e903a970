'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { apiPost, ceremonyMessage } from '@/components/api';
import { refreshSession } from '@/components/acting/refresh-session';
import { timeLeft } from '@/lib/format';

/** Shown on every page while acting: the organisation, the reason, a live countdown and Stop. */
export function ActingBanner(props: {
  orgName: string;
  orgSlug: string;
  reason: string;
  ticketRef: string;
  expiresAt: string;
}) {
  const router = useRouter();
  const [now, setNow] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const expires = new Date(props.expiresAt).getTime();

  useEffect(() => {
    const tick = () => setNow(Date.now());
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    // At expiry the server ends the context on the next request; reload so the page says so.
    if (now !== null && now >= expires) router.refresh();
  }, [now, expires, router]);

  async function stop() {
    try {
      await apiPost('/api/acting/stop');
      await refreshSession();
      router.refresh();
    } catch (err) {
      setError(ceremonyMessage(err));
    }
  }

  return (
    <div role="region" aria-label="Acting context" className="bg-indigo-700 px-4 py-2 text-sm text-white">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-1">
        <strong>
          Acting for {props.orgName} <span className="font-mono font-normal">({props.orgSlug})</span>
        </strong>
        <span>
          {props.ticketRef}: {props.reason}
        </span>
        <span data-testid="acting-countdown" className="font-mono">
          {now === null ? '' : timeLeft(expires - now)}
        </span>
        {error && <span className="text-amber-200">{error}</span>}
        <button
          type="button"
          onClick={stop}
          className="ml-auto rounded bg-white px-3 py-1 font-medium text-indigo-800 hover:bg-indigo-50"
        >
          Stop acting
        </button>
      </div>
    </div>
  );
}
