import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodings, scanLog } from '@/e2e/log-scan';

const good = JSON.stringify({
  level: 'info',
  time: '2026-11-23T18:36:32.392Z',
  request_id: 'req-12345678',
  staff_id: null,
  org_id: null,
  msg: 'request',
});

describe('the e2e log scan (e2e/logs.teardown.ts)', () => {
  it('passes clean lines, the launcher’s bootstrap link and plain text', () => {
    const text = [
      good,
      '│ Enrol: http://localhost:3100/enroll/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd   │',
      '✓ Ready',
    ].join('\n');
    expect(scanLog('a.log', text, [])).toEqual({ leaks: [], malformed: [], requestLines: 1 });
  });

  it('finds a secret value in any of its encodings', () => {
    const key = crypto.randomBytes(32);
    const secrets = encodings(key).map((e) => ['hmac key', e] as [string, string]);
    for (const form of [key.toString('base64'), key.toString('hex')]) {
      const { leaks } = scanLog('a.log', `{"msg":"oops","k":"${form}"}`, secrets);
      expect(leaks).toContain('a.log:1: hmac key');
    }
  });

  it.each([
    ['a session JWE', 'cookie eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..abc.def.ghi'],
    ['a platform token', 'token=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig'],
    ['a PEM key', '-----BEGIN PRIVATE KEY-----'],
    ['a cookie header', 'cookie: portal.session=abc'],
    ['a bearer token', 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz'],
    [
      'an enrolment link elsewhere',
      '{"msg":"x","url":"https://int.arbitex.ai/enroll/AbCdEfGhIjKlMnOpQrStUvWx"}',
    ],
  ])('finds %s', (_what, line) => {
    expect(scanLog('a.log', line, []).leaks).toHaveLength(1);
  });

  it('reports JSON lines without time, level, msg or the request fields', () => {
    const { malformed } = scanLog(
      'a.log',
      [
        JSON.stringify({ level: 'info', msg: 'x', time: 1700000000000 }),
        JSON.stringify({
          level: 'info',
          time: '2026-11-23T18:36:32.392Z',
          msg: 'request',
          request_id: 'r-12345678',
        }),
      ].join('\n'),
      [],
    );
    expect(malformed).toEqual([
      'a.log:1: no ISO 8601 UTC time',
      'a.log:2: no staff_id',
      'a.log:2: no org_id',
    ]);
  });
});
