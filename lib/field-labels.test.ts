import { describe, expect, it } from 'vitest';
import { ValidationError } from '@/lib/errors';
import { fieldLabel } from './field-labels';

describe('field labels in error messages', () => {
  it('names fields by their labels, paths into lists by item, unknown keys spelt out', () => {
    expect(fieldLabel('requestsPerMinute')).toBe('Requests per minute');
    expect(fieldLabel('methods.1')).toBe('MFA methods (item 2)');
    expect(fieldLabel('someNewField')).toBe('Some new field');
    expect(fieldLabel('from_seq')).toBe('First seq');
  });

  it('builds the message from labels, each field once, and keeps the keys in `fields`', () => {
    const e = new ValidationError({
      reason: 'Say why (at least 10 characters).',
      ticketRef: 'Give the ticket reference as your ticket system writes it, such as SUP-2041.',
    });
    expect(e.message).toBe(
      'Reason: Say why (at least 10 characters). Ticket reference: Give the ticket reference as your ticket system writes it, such as SUP-2041.',
    );
    expect(e.extra).toEqual({
      fields: {
        reason: 'Say why (at least 10 characters).',
        ticketRef: 'Give the ticket reference as your ticket system writes it, such as SUP-2041.',
      },
    });
    expect(e.message).not.toMatch(/ticketRef|\^|\$\)/);
  });
});
