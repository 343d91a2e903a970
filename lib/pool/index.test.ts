import { describe, expect, it } from 'vitest';
import { STAFF_ROLES } from '@/lib/auth/roles';
import type { StaffCtx } from '@/lib/auth/session';
import { poolHistory, poolSnapshot } from './index';

// vitest's environment has no PROMETHEUS_URL: the embedded portal's default.
describe('the pool view without PROMETHEUS_URL', () => {
  it('answers 503 naming the variable to set, for every staff role', async () => {
    for (const role of STAFF_ROLES) {
      const ctx = { role } as StaffCtx;
      await expect(poolSnapshot(ctx)).rejects.toMatchObject({
        status: 503,
        code: 'pool_not_configured',
        extra: { variable: 'PROMETHEUS_URL' },
        message: expect.stringContaining('set PROMETHEUS_URL'),
      });
      await expect(poolHistory(ctx, '24h')).rejects.toMatchObject({ status: 503 });
    }
  });

  it('refuses a range other than 1h and 24h before anything else', async () => {
    await expect(poolHistory({ role: 'auditor' } as StaffCtx, '7d')).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('The range is 1h or 24h.'),
    });
  });
});
