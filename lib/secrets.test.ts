import { afterEach, describe, expect, it } from 'vitest';
import { readOptionalSecret } from './secrets';

// vitest runs with SECRETS_BACKEND=env (vitest.config.ts).
describe('readOptionalSecret', () => {
  afterEach(() => {
    delete process.env.SECRET_PROMETHEUS_BEARER_TOKEN;
  });

  it('reads the Prometheus bearer token when it is there, and gives undefined when it is not', () => {
    expect(readOptionalSecret('prometheus-bearer-token')).toBeUndefined();
    process.env.SECRET_PROMETHEUS_BEARER_TOKEN = '  tok-123\n';
    expect(readOptionalSecret('prometheus-bearer-token')).toBe('tok-123');
    process.env.SECRET_PROMETHEUS_BEARER_TOKEN = '';
    expect(readOptionalSecret('prometheus-bearer-token')).toBeUndefined();
  });
});
