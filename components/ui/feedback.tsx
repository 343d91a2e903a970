import type { ApiError } from '@/components/api';
import { Alert } from '@/components/ui/alert';

/**
 * The outcome of the last action: the server's message on failure, the done message on success, and
 * "Nothing changed: …" (a write of what was there already, which wrote nothing) as information.
 */
export function Feedback({ error, message }: { error: ApiError | null; message: string | null }) {
  if (error) return <Alert tone="error">{error.message}</Alert>;
  if (message) {
    return <Alert tone={message.startsWith('Nothing changed') ? 'info' : 'success'}>{message}</Alert>;
  }
  return null;
}
