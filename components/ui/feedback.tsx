import type { ApiError } from '@/components/api';
import { Alert } from '@/components/ui/alert';
import { fieldLabel } from '@/lib/field-labels';

/**
 * The outcome of the last action: the server's message on failure, the done message on success, and
 * "Nothing changed: …" (a write of what was there already, which wrote nothing) as information.
 *
 * `shown` lists the fields whose errors the form shows next to them. A field error is said once: next to its
 * field when the form shows it there, otherwise here, by the field's label.
 */
export function Feedback({
  error,
  message,
  shown,
  refused = 'Not saved',
}: {
  error: ApiError | null;
  message: string | null;
  shown?: readonly string[];
  /** What a refusal of the fields means for this form: "Not saved", "Not started". */
  refused?: string;
}) {
  if (error) {
    const fields = Object.entries(error.fields);
    if (error.code === 'invalid' && shown && fields.length > 0) {
      const elsewhere = fields.filter(([key]) => !shown.includes(key.split('.')[0]!));
      return (
        <Alert tone="error">
          {elsewhere.length === 0
            ? `${refused}: correct the field${fields.length === 1 ? '' : 's'} marked above.`
            : `${refused}. ${elsewhere.map(([key, m]) => `${fieldLabel(key)}: ${m}`).join(' ')}`}
        </Alert>
      );
    }
    return <Alert tone="error">{error.message}</Alert>;
  }
  if (message) {
    return <Alert tone={message.startsWith('Nothing changed') ? 'info' : 'success'}>{message}</Alert>;
  }
  return null;
}
