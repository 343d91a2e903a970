import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config';

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('parseConfig', () => {
  it('defaults to a local profile on the embedded database with generated secrets', () => {
    expect(parseConfig({})).toMatchObject({
      PORTAL_ENV: 'local',
      PORT: 3000,
      dbKind: 'pglite',
      SECRETS_BACKEND: 'generated',
    });
    expect(parseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/portal' }).dbKind).toBe('postgres');
  });

  it('names the field that is wrong', () => {
    expect(problems({ PORT: 'eighty' })).toEqual([expect.stringMatching(/^PORT: /)]);
    expect(problems({ DATABASE_URL: 'mysql://x' })).toEqual(['DATABASE_URL: must be a postgres:// URL']);
    expect(problems({ PORTAL_ENV: 'staging' })).toEqual([expect.stringMatching(/^PORTAL_ENV: /)]);
  });

  it('refuses an insecure production configuration, one line per problem', () => {
    expect(problems({ PORTAL_ENV: 'production' })).toEqual([
      expect.stringMatching(/^DATABASE_URL is not set/),
      expect.stringMatching(/^SECRETS_DIR is not set/),
    ]);
    expect(
      problems({
        PORTAL_ENV: 'production',
        DATABASE_URL: 'postgres://db/p',
        SECRETS_BACKEND: 'env',
        SECRETS_DIR: '/s',
      }),
    ).toEqual([expect.stringMatching(/^SECRETS_BACKEND=env/)]);
    expect(
      problems({
        PORTAL_ENV: 'production',
        DATABASE_URL: 'postgres://db/p',
        SECRETS_BACKEND: 'generated',
        SECRETS_DIR: '/s',
      }),
    ).toEqual([expect.stringMatching(/^SECRETS_BACKEND=generated/)]);
    expect(
      problems({ PORTAL_ENV: 'production', DATABASE_URL: 'postgres://db/p', SECRETS_DIR: '/mnt/secrets' }),
    ).toEqual([]);
  });
});
