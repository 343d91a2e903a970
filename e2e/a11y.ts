import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/** The WCAG 2.1 levels A and AA, as axe-core tags its rules. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** The impacts that fail a page; `minor` and `moderate` findings are left to review. */
const FAILING = new Set(['serious', 'critical']);

/**
 * Runs axe-core on the page as it is now and fails on any serious or critical WCAG 2.1 A/AA violation,
 * listing each one's rule id, help text and the selectors of the elements it found.
 */
export async function expectAccessible(page: Page): Promise<void> {
  // After a server action the page is re-rendered in place, and its <title> (streamed metadata) can be
  // missing for a moment: wait for the document to be whole before judging it.
  await expect(page).toHaveTitle(/\S/);
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  const failing = violations.filter((v) => v.impact && FAILING.has(v.impact));
  const report = failing.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.map(String).join(' >> ')}`).join('\n')}`,
  );
  expect(report, `accessibility violations on ${new URL(page.url()).pathname}`).toEqual([]);
}
