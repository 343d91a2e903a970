'use client';

import { createContext, type ReactNode, useContext, useState } from 'react';
import { Alert } from '@/components/ui/alert';

export interface Outcome {
  message: string;
  /** An approved invitation's one-time link, shown only now, to the person who applied it. */
  link?: string | null;
}

const Report = createContext<(outcome: Outcome) => void>(() => {});

/** What a request's action reports on success. */
export const useReportOutcome = () => useContext(Report);

/**
 * The outcome of the last decision on /approvals, shown above the list. A decided request leaves the list it
 * was in when the page refreshes, and its actions with it: the message, and an approved invitation's link,
 * must outlive it, so they are kept here, outside the list.
 */
export function OutcomeProvider({ children }: { children: ReactNode }) {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  return (
    <Report.Provider value={setOutcome}>
      {outcome && (
        <Alert tone="success">
          <p>{outcome.message}</p>
          {outcome.link && (
            <code
              data-testid="invite-link"
              className="mt-2 block break-all rounded bg-white p-2 font-mono text-xs text-slate-900"
            >
              {outcome.link}
            </code>
          )}
        </Alert>
      )}
      {children}
    </Report.Provider>
  );
}
