import { z } from 'zod';
import { fieldLabel } from '@/lib/field-labels';

/**
 * An error a person should read, with the HTTP status it maps to. Route handlers turn these into JSON
 * answers (lib/http/handler.ts); anything else is a 500 with no detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'Your session has ended. Sign in again.') {
    super(401, 'unauthenticated', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** An edit based on a stale version: nothing was written; `current` holds what is there now. */
export class ConflictError extends AppError {
  constructor(message: string, current: unknown) {
    super(409, 'conflict', message, { current });
  }
}

export class StepUpRequiredError extends AppError {
  constructor(maxAgeS: number) {
    super(
      403,
      'step_up_required',
      maxAgeS < 120
        ? `This change needs a security-key check of its own (within the last ${maxAgeS} seconds).`
        : `This change needs a fresh security-key check (within the last ${Math.round(maxAgeS / 60)} minutes).`,
    );
  }
}

export class TooManyRequestsError extends AppError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(429, 'too_many_requests', message, { retryAfterS });
  }
}

/**
 * A bad request. `fields` maps each wrong field's key to its message, which the forms show next to the
 * field; the message names each field by its label (lib/field-labels.ts), never by its key:
 * `Reason: Say why (at least 10 characters).`
 */
export class ValidationError extends AppError {
  constructor(readonly fields: Record<string, string>) {
    super(
      400,
      'invalid',
      Object.entries(fields)
        .map(([f, m]) => `${fieldLabel(f)}: ${m}`)
        .join(' '),
      { fields },
    );
  }

  static fromZod(error: z.ZodError): ValidationError {
    const fields: Record<string, string> = {};
    for (const issue of error.issues) fields[issue.path.join('.') || '(request)'] ??= issue.message;
    return new ValidationError(fields);
  }
}

/** Parses untrusted input, turning a zod failure into a ValidationError that names the fields. */
export function parseInput<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error);
  return parsed.data;
}
