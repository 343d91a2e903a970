/**
 * The log scan of e2e/logs.teardown.ts, free of the test runner so that test/log-scan.test.ts can show
 * that it catches what it should.
 */

/** Shapes of credential material, whoever it belongs to. */
const PATTERNS: [string, RegExp][] = [
  ['a JWT, JWS or JWE (session cookie, platform token, Cloudflare Access token)', /eyJ[\w-]{8,}\.[\w-]*\./],
  ['a PEM block', /-----BEGIN [A-Z ]+-----/],
  ['a session or CSRF cookie', /(portal\.session|next-auth\.[a-z-]+|CF_Authorization)=[^;\s"]/i],
  ['an Authorization header', /\b(Bearer|Basic) [A-Za-z0-9+/._-]{16,}/],
  ['an enrolment link with its token', /\/enroll\/[A-Za-z0-9_-]{20,}/],
];

// `npm start` prints the first superadmin's one-time enrolment link on an empty local database, by
// design (README: it is how the first key is enrolled; production never prints it, and the setup project
// spends it), in a box (scripts/enrol-banner.ts). That one launcher line is the only exception.
const BOOTSTRAP_LINE = /^│ Enrol: http:\/\/localhost:\d+\/enroll\/[A-Za-z0-9_-]+ *│$/;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The forms a secret's bytes could be printed in. */
export function encodings(bytes: Buffer): string[] {
  return [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')].map((s) =>
    s.replace(/=+$/, ''),
  );
}

export interface ScanResult {
  /** `file:line: what`, for each secret value or credential shape found. */
  leaks: string[];
  /** `file:line: what`, for each JSON line without the fields operations rely on. */
  malformed: string[];
  /** How many access lines (`msg: "request"`) there were. */
  requestLines: number;
}

/** Scans one log file's text for `secrets` (name, value) and credential shapes, and checks its JSON lines. */
export function scanLog(file: string, text: string, secrets: [string, string][]): ScanResult {
  const result: ScanResult = { leaks: [], malformed: [], requestLines: 0 };
  text.split('\n').forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (BOOTSTRAP_LINE.test(line)) return;
    for (const [name, value] of secrets) if (line.includes(value)) result.leaks.push(`${where}: ${name}`);
    for (const [name, pattern] of PATTERNS) if (pattern.test(line)) result.leaks.push(`${where}: ${name}`);
    if (!line.startsWith('{')) return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      result.malformed.push(`${where}: not JSON`);
      return;
    }
    if (typeof entry.time !== 'string' || !ISO_UTC.test(entry.time))
      result.malformed.push(`${where}: no ISO 8601 UTC time`);
    if (typeof entry.level !== 'string') result.malformed.push(`${where}: no level`);
    if (typeof entry.msg !== 'string') result.malformed.push(`${where}: no msg`);
    if (entry.msg === 'request') {
      result.requestLines++;
      for (const field of ['request_id', 'staff_id', 'org_id'])
        if (!(field in entry)) result.malformed.push(`${where}: no ${field}`);
      if (typeof entry.request_id !== 'string') result.malformed.push(`${where}: request_id is not set`);
    }
  });
  return result;
}
