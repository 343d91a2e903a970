import { BACKGROUND_HEADER } from '@/lib/auth/background';

/** The portal's JSON API from the browser. Errors carry the server's code, message and field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }

  get fields(): Record<string, string> {
    return (this.body.fields as Record<string, string> | undefined) ?? {};
  }
}

/** A write's answer when it was asked for what is there already: nothing was written (lib/audit). */
export interface Unchanged {
  changed: false;
  message: string;
}

export function isUnchanged(value: unknown): value is Unchanged {
  return typeof value === 'object' && value !== null && (value as { changed?: unknown }).changed === false;
}

export async function apiPost<T = unknown>(url: string, body: unknown = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return answer<T>(res);
}

/**
 * A read; it gives up after `timeoutMs`, so that nothing waits for ever. `background`: a poll the page makes
 * by itself, which does not keep the session from idling out (lib/auth/background.ts).
 */
export async function apiGet<T = unknown>(
  url: string,
  timeoutMs = 30_000,
  opts: { background?: boolean } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      cache: 'no-store',
      headers: opts.background ? { [BACKGROUND_HEADER]: '1' } : undefined,
    });
  } catch (err) {
    const message =
      err instanceof Error && err.name === 'TimeoutError'
        ? `The portal did not answer within ${Math.round(timeoutMs / 1000)} s.`
        : 'The portal could not be reached.';
    throw new ApiError(0, 'network', message, {});
  }
  return answer<T>(res);
}

async function answer<T>(res: Response): Promise<T> {
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const message = typeof data.message === 'string' ? data.message : `The server answered ${res.status}.`;
    throw new ApiError(res.status, typeof data.error === 'string' ? data.error : 'error', message, data);
  }
  return data as T;
}

/** A message for a failed browser ceremony: the user cancelled, timed out, or used an unknown key. */
export function ceremonyMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && (err.name === 'NotAllowedError' || err.name === 'AbortError')) {
    return 'The security-key request was cancelled or timed out. Try again.';
  }
  if (err instanceof Error && err.name === 'InvalidStateError') {
    return 'This security key is already registered.';
  }
  return err instanceof Error ? err.message : 'Something went wrong.';
}
