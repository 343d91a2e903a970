/**
 * The alert rules of deploy/prometheus: promtool (Debian's `prometheus` package; CI installs it) checks the
 * file and runs its unit tests, which feed synthetic series and expect named alerts to fire, or not, at
 * given times. Every metric a rule names must be one lib/metrics writes (or Prometheus's and
 * kube-state-metrics' own), so a renamed series cannot leave a rule that never fires.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const RULES = 'deploy/prometheus/portal-alerts.yaml';
const TESTS = 'deploy/prometheus/portal-alerts.test.yaml';
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

function promtool(...args: string[]): string {
  return execFileSync(PROMTOOL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('deploy/prometheus/portal-alerts.yaml', () => {
  it('passes promtool check rules', () => {
    expect(promtool('check', 'rules', RULES)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes its promtool unit tests (the alerts fire on synthetic series, and not before their time)', () => {
    expect(promtool('test', 'rules', TESTS)).toMatch(/SUCCESS/);
  });

  it('names only series the portal writes, and has an alert for each figure the issue asks for', () => {
    const metricsSource = ['lib/metrics/index.ts', 'lib/metrics/http.ts']
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    const { groups } = parse(fs.readFileSync(RULES, 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const rules = groups.flatMap((g) => g.rules);
    for (const rule of rules) {
      for (const name of rule.expr.match(/\bportal_[a-z_]+/g) ?? []) {
        const base = name.replace(/_(count|sum|bucket)$/, '');
        expect(metricsSource, `${rule.alert} uses ${name}`).toContain(base);
      }
    }
    const covered = rules.map((r) => r.expr).join('\n');
    for (const series of [
      'portal_audit_inbox_rows',
      'portal_audit_inbox_oldest_age_seconds',
      'portal_audit_checkpoint_age_seconds',
      'portal_siem_lag_seconds',
      'portal_http_request_duration_seconds_count{status="5xx"}',
      'portal_db_pool_saturated_seconds_total',
      'kube_pod_status_ready',
    ])
      expect(covered).toContain(series);
  });

  it('fails promtool on a broken rule (the check is real)', () => {
    const broken = fs.mkdtempSync('/tmp/portal-rules-');
    fs.writeFileSync(
      `${broken}/rules.yaml`,
      'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: max(portal_audit_inbox_rows >\n',
    );
    expect(() => promtool('check', 'rules', `${broken}/rules.yaml`)).toThrow();
    fs.rmSync(broken, { recursive: true, force: true });
  });
});
