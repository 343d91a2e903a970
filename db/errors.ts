/** The Postgres error behind a driver or Drizzle error (Drizzle wraps it as `cause`), if there is one. */
export function pgError(err: unknown): { code: string; message: string; constraint?: string } | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, constraint, constraint_name } = e as Record<string, unknown>;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof message === 'string') {
      const name =
        typeof constraint === 'string'
          ? constraint
          : typeof constraint_name === 'string'
            ? constraint_name
            : undefined;
      return { code, message, ...(name && { constraint: name }) };
    }
  }
  return undefined;
}
