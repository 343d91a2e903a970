'use client';

import { apiPost, isUnchanged } from '@/components/api';
import type { StepUpOptions } from '@/components/auth/use-step-up';
import { useAction } from '@/components/use-action';

/**
 * A form's write to one organisation endpoint; see useAction. `conflict` is, after a stale edit (409),
 * the row the server has now (null when it has none), and undefined otherwise. A write of what is there
 * already answers `{ changed: false }` and writes nothing; the form then says "Nothing changed: …" instead of
 * `done`, and `unchanged` is true.
 */
export function useOrgWrite<T = unknown>(url: string) {
  const { act, ...state } = useAction();
  const conflict =
    state.error?.status === 409 && state.error.code === 'conflict' ? state.error.body.current : undefined;
  return {
    ...state,
    conflict,
    unchanged: state.message?.startsWith('Nothing changed') ?? false,
    submit: (body: unknown, done: string, options?: StepUpOptions) =>
      act<T>(
        (result) => (isUnchanged(result) ? result.message : done),
        () => apiPost<T>(url, body),
        options,
      ),
  };
}
