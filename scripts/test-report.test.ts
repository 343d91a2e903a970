import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { playwrightCounts, vitestCounts } from './test-report';

// Real reports from real runs of a failing and a passing test, as `npm test` makes them.
const bin = (name: string) => path.resolve('node_modules/.bin', name);

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function project(files: Record<string, string>): string {
  // Inside the project (in .e2e, which git ignores), so that `vitest` and `@playwright/test` resolve from its
  // node_modules; Playwright finds no tests under a folder named test-results.
  fs.mkdirSync('.e2e', { recursive: true });
  const dir = fs.mkdtempSync(path.resolve('.e2e', 'report-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('the summary of npm test names each failed test with its error', () => {
  it('from the vitest JSON report', () => {
    const dir = project({
      'vitest.config.mjs': 'export default {};\n',
      'sum.test.mjs': `import { it, expect } from 'vitest';
it('adds', () => expect(1 + 1).toBe(2));
it('subtracts', () => expect(2 - 1).toBe(3));
`,
    });
    spawnSync(bin('vitest'), ['run', '--reporter=json', '--outputFile.json=report.json'], { cwd: dir });
    const counts = vitestCounts(path.join(dir, 'report.json'));
    expect(counts).toMatchObject({ passed: 1, failed: 1 });
    expect(counts?.failures).toHaveLength(1);
    expect(counts?.failures[0]).toMatch(/sum\.test\.mjs › subtracts: .*expected 1 to be 3/);
  });

  it('from the Playwright JSON report', () => {
    const dir = project({
      'playwright.config.mjs': `export default { reporter: [['json', { outputFile: 'report.json' }]] };\n`,
      'sum.spec.mjs': `import { test, expect } from '@playwright/test';
test('adds', () => expect(1 + 1).toBe(2));
test.describe('numbers', () => {
  test('subtracts', () => expect(2 - 1).toBe(3));
});
`,
    });
    spawnSync(bin('playwright'), ['test', '--config', 'playwright.config.mjs'], { cwd: dir });
    const counts = playwrightCounts(path.join(dir, 'report.json'));
    expect(counts).toMatchObject({ passed: 1, failed: 1 });
    expect(counts?.failures).toEqual([expect.stringMatching(/sum\.spec\.mjs › numbers › subtracts: .*toBe/)]);
    // Without the terminal's colour codes, which Playwright keeps in its messages.
    expect(counts?.failures[0]).not.toContain('\u001b');
  });
});
