/**
 * Where to go after sign-in: `next` when it is a path on this origin, else `/`. The browser's URL parser
 * decides, as it will when the path is followed; tabs and newlines, which that parser drops silently
 * (`/\t/evil.example` becomes `//evil.example`), other control characters and backslashes are refused first.
 */
export function safeNext(next: string | null | undefined, origin: string): string {
  if (!next || !next.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  if (url.origin !== new URL(origin).origin) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
