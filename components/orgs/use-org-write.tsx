'use client';

import { apiPost } from '@/components/api';
import { useAction } from '@/components/use-action';

/** A form's write to one organisation endpoint; see useAction. */
export function useOrgWrite<T = unknown>(url: string) {
  const { act, ...state } = useAction();
  return { ...state, submit: (body: unknown, done: string) => act<T>(done, () => apiPost<T>(url, body)) };
}
