/**
 * A Merkle inclusion proof as a third party gets it: a superadmin signs a checkpoint and downloads the
 * checkpoint keys from /audit/checkpoints, opens an entry, downloads its "Inclusion proof", and the proof
 * checks with `npm run audit:verify -- --proof` and scripts/check-proof-by-hand.mjs, with that key alone.
 * And the witness e2e/serve.ts runs beside the portal cosigns its checkpoints.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CheckpointsDocument } from '../lib/audit/export-format';
import { parseNote } from '../lib/audit/note';
import {
  cosignerVerifierKey,
  parseCosignatureLines,
  parseCosignerKey,
  verifyCosignature,
} from '../lib/audit/witness-protocol';
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { WITNESS } from './portal-env';
import { asSuperadmin } from './staff';

test('download an entry’s inclusion proof and check it offline with the checkpoint key', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  await page.goto('/audit/checkpoints');
  await page.getByRole('button', { name: 'Sign a checkpoint now' }).click();
  await expect(
    page.getByText(/^A checkpoint of the current head, seq [\d,]+, is signed and stored\.$/),
  ).toBeVisible();
  const keysDownload = page.waitForEvent('download');
  await page.getByRole('link', { name: /Download checkpoints and public keys/ }).click();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-proof-'));
  const keysFile = path.join(dir, 'checkpoints.json');
  await (await keysDownload).saveAs(keysFile);
  const keys = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as { public_keys: Record<string, string> };
  const pem = path.join(dir, 'key.pem');
  fs.writeFileSync(pem, Object.values(keys.public_keys)[0]!);

  await page.goto('/audit/1');
  await expect(page.getByRole('heading', { name: 'Audit entry 1', level: 1 })).toBeVisible();
  await expectAccessible(page);
  const proofDownload = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Inclusion proof' }).click();
  const download = await proofDownload;
  expect(download.suggestedFilename()).toBe('audit-entry-1-inclusion-proof.json');
  const file = path.join(dir, download.suggestedFilename());
  await download.saveAs(file);
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({
    type: 'arbitex.audit.inclusion_proof',
    seq: 1,
    entry: { seq: 1 },
  });

  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  const cli = spawnSync(
    'node_modules/.bin/tsx',
    ['scripts/audit-verify.ts', '--proof', file, '--checkpoint-pubkey', keysFile],
    { env: { ...env, DATA_DIR: dir }, encoding: 'utf8' },
  );
  expect(cli.stdout, cli.stderr).toMatch(/^VALID: .*entry 1 is in the tree of \d+ entries/);
  expect(cli.status).toBe(0);
  const byHand = spawnSync('node', ['scripts/check-proof-by-hand.mjs', file, pem], { encoding: 'utf8' });
  expect(byHand.stdout, byHand.stderr).toMatch(/^valid: entry 1 is in the chain/);

  // The API answers every role; a missing seq is a 400 naming the field.
  const missing = await page.request.get('/api/audit/proof/inclusion');
  expect(missing.status()).toBe(400);
  expect(await missing.json()).toMatchObject({ error: 'invalid', fields: { seq: expect.any(String) } });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the witness beside the portal cosigns each new checkpoint: the page shows it, and the download’s cosignatures verify', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  await page.goto('/audit/checkpoints');
  const listed = page.locator('[data-witness-list] li', { hasText: WITNESS.name });
  await expect(listed).toContainText(WITNESS.url);
  await page.getByRole('button', { name: 'Sign a checkpoint now' }).click();
  const signed = page.getByText(/^A checkpoint of the current head, seq ([\d,]+), is signed and stored\.$/);
  await expect(signed).toBeVisible();
  const seq = Number((/seq ([\d,]+)/.exec(await signed.innerText())?.[1] ?? '').replaceAll(',', ''));

  // The witness is asked in the background (and the ticker may sign a newer checkpoint meanwhile): wait for a
  // cosigned checkpoint at or past this head.
  const cosignedSeqs = () =>
    page
      .locator(`tr[data-checkpoint-seq]:has([data-witness="${WITNESS.name}"][data-outcome="cosigned"])`)
      .evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-checkpoint-seq'))));
  await expect
    .poll(
      async () => {
        await page.reload();
        return Math.max(0, ...(await cosignedSeqs()));
      },
      { timeout: 30_000, intervals: [1000] },
    )
    .toBeGreaterThanOrEqual(seq);
  await expect(listed).toContainText(/last cosigned a tree of [\d,]+ entries/);
  await expectAccessible(page);

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: /Download checkpoints and public keys/ }).click();
  const document = CheckpointsDocument.parse(
    JSON.parse(fs.readFileSync(await (await download).path(), 'utf8')),
  );
  // The witness's key as its operator gives it out, not as the download carries it.
  const vkey = cosignerVerifierKey(WITNESS.name, crypto.createPrivateKey(fs.readFileSync(WITNESS.keyFile)));
  expect(document.witness_keys).toEqual({ [WITNESS.name]: vkey });
  const key = parseCosignerKey(vkey);
  const cosigned = document.checkpoints.filter((c) => c.cosignatures && c.seq >= seq);
  expect(cosigned.length).toBeGreaterThan(0);
  for (const c of cosigned) {
    const text = parseNote(c.note!).text;
    for (const line of c.cosignatures!) {
      const [signature] = parseCosignatureLines(text, `${line}\n`);
      expect(verifyCosignature(text, signature!, key)).toMatchObject({ ok: true });
    }
  }

  // An entry's inclusion proof comes against a cosigned checkpoint, which the verifier can require.
  await page.goto('/audit/1');
  const proofDownload = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Inclusion proof' }).click();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-witnessed-'));
  const proof = path.join(dir, 'proof.json');
  await (await proofDownload).saveAs(proof);
  const pem = path.join(dir, 'key.pem');
  fs.writeFileSync(pem, Object.values(document.public_keys)[0]!);
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', DATA_DIR: dir };
  delete env.DATABASE_URL;
  const cli = spawnSync(
    'node_modules/.bin/tsx',
    ['scripts/audit-verify.ts', '--proof', proof, '--checkpoint-pubkey', pem, '--witness-key', vkey],
    { env, encoding: 'utf8' },
  );
  expect(cli.stdout, cli.stderr).toMatch(/^VALID: .*entry 1 is in the tree .*; cosigned by e2e\.witness\/w1/);
  expect(cli.status).toBe(0);
  fs.rmSync(dir, { recursive: true, force: true });
});
