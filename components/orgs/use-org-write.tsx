'use client';

import { apiPost } from '@/components/api';
import { useAction } from '@/components/use-action';

/**
 * A form's write to one organisation endpoint; see useAction. `conflict` is, after a stale edit (409),
 * the row the server has now (null when it has none), and undefined otherwise.
 */
export function useOrgWrite<T = unknown>(url: string) {
  const { act, ...state } = useAction();
  const conflict =
    state.error?.status === 409 && state.error.code === 'conflict' ? state.error.body.current : undefined;
  return {
    ...state,
    conflict,
    submit: (body: unknown, done: string) => act<T>(done, () => apiPost<T>(url, body)),
  };
}
