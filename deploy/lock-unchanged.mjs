// Usage: node lock-unchanged.mjs <lockfile before install> <lockfile after install>
// Fails when `npm install` changed the version or integrity of any package the lockfile already had.
// New entries are allowed only for platform-specific optional packages (those with `os` or `cpu`), which
// the registry this repository is developed against does not serve (deploy/README.md, "Supply chain").
import fs from 'node:fs';

const [beforeFile, afterFile] = process.argv.slice(2);
if (!beforeFile || !afterFile) throw new Error('usage: lock-unchanged.mjs BEFORE AFTER');
const before = JSON.parse(fs.readFileSync(beforeFile, 'utf8')).packages ?? {};
const after = JSON.parse(fs.readFileSync(afterFile, 'utf8')).packages ?? {};
const problems = [];
for (const [path, locked] of Object.entries(before)) {
  const now = after[path];
  if (!now) problems.push(`${path || '(root)'}: removed`);
  else if (now.version !== locked.version || now.integrity !== locked.integrity)
    problems.push(`${path}: ${locked.version} -> ${now.version}`);
}
for (const [path, added] of Object.entries(after)) {
  if (!(path in before) && !(added.optional && (added.os || added.cpu)))
    problems.push(`${path}: added ${added.version}`);
}
if (problems.length > 0) {
  console.error(`npm install changed package-lock.json:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`package-lock.json: ${Object.keys(before).length} locked packages unchanged.`);
