/**
 * The box in which `npm start` prints the first superadmin's enrolment link, last, once the portal answers;
 * and how e2e/serve.ts, the benchmarks and the log scan find the link in it.
 */

/** The line with the link: `│ Enrol: <url> │`, padded to the box's width. */
export const ENROL_LINE = /^│ Enrol: (https?:\/\/\S+) *│$/m;
/** npm start prints this early when it made a link; without it, no link will follow. */
export const ENROL_FOLLOWS =
  'No staff yet: the enrolment link for the first superadmin follows once the portal answers.';

/** `lines` in a box of Unicode line-drawing characters, each padded to the longest. */
export function box(lines: readonly string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const rule = '─'.repeat(width + 2);
  return [`╭${rule}╮`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `╰${rule}╯`].join('\n');
}

export function enrolBanner(email: string, url: string, expiresAt: Date): string {
  return box([
    `No staff yet. Enrol the first superadmin (${email}) with this one-time link,`,
    `valid until ${expiresAt.toISOString()}, in a browser with a FIDO2 security key:`,
    '',
    `Enrol: ${url}`,
  ]);
}
