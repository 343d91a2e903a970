/**
 * Asks next-auth to re-issue the session JWT, whose acting claims the server reads from the database
 * (the body carries nothing it trusts).
 */
export async function refreshSession(): Promise<void> {
  const { csrfToken } = (await (await fetch('/api/auth/csrf')).json()) as { csrfToken: string };
  const res = await fetch('/api/auth/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ csrfToken, data: {} }),
  });
  if (!res.ok) throw new Error('Could not refresh the session. Reload the page.');
}
