/**
 * Sent by the browser on a request it makes by itself, with no person behind it (the navigation badge's
 * poll): the session is checked as always, but its idle deadline does not move (lib/auth/current.ts), so
 * that an open tab left alone still signs out after SESSION_IDLE_TIMEOUT_S.
 */
export const BACKGROUND_HEADER = 'x-portal-background';
