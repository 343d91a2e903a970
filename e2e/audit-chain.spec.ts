/**
 * The audit chain as a platform view: an auditor verifies the chain and watches the run to its verdict;
 * a superadmin signs a checkpoint on demand and rotates the HMAC key with step-up, after which new entries
 * carry the new key and the chain still verifies. axe runs on each of the pages.
 */
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { STEP_UP_MAX_AGE_S } from './settings';
import { approve, REQUESTED, visit } from './approvals';
import { asSuperadmin, confirmStepUp, newStaffMember, signIn } from './staff';

test('an auditor verifies the whole chain and sees progress and a valid verdict', async ({
  page,
  authenticator,
  browser,
}) => {
  await asSuperadmin(page, authenticator);
  const auditor = await newStaffMember(browser, page, 'auditor');
  const p = auditor.page;
  await signIn(p);
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Verify chain' }).click();
  await expect(p.getByRole('heading', { level: 1, name: 'Verify the audit chain' })).toBeVisible();
  await expectAccessible(p);

  await p.getByRole('button', { name: 'Verify chain' }).click();
  const progress = p.getByTestId('verify-progress');
  await expect(progress).toBeVisible();
  await expect(progress.getByRole('status')).toContainText(/entries checked .* entries\/s/);
  await expect(progress).toHaveAttribute('data-status', 'valid', { timeout: 30_000 });
  await expect(p.locator('[role="status"]', { hasText: /^Valid\./ })).toBeVisible();
  await expect(progress.getByRole('status')).toContainText(/(\d[\d,]*) of \1 entries checked \(100 %\)/);
  await expectAccessible(p);
  // The run is listed, by whom, with its verdict.
  await expect(p.locator('tr[data-run-status="valid"]').first()).toContainText(auditor.email);

  // A bad range is refused with the field named, and nothing runs.
  await p.getByLabel('First seq (optional)').fill('10');
  await p.getByLabel('Last seq (optional)').fill('3');
  await p.getByRole('button', { name: 'Verify chain' }).click();
  await expect(p.locator('#verify-to-error')).toHaveText('must not be below the first seq');
  // Said once: next to the field, and the alert points there.
  await expect(p.getByText('must not be below the first seq')).toHaveCount(1);
  await expect(p.getByRole('main').getByRole('alert')).toHaveText(
    'Not started: correct the field marked above.',
  );
  await expect(p.getByLabel('Last seq (optional)')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(p);
  await auditor.close();
});

test('a superadmin signs a checkpoint on demand, rotates the HMAC key with step-up, and the chain still verifies', async ({
  page,
  authenticator,
  browser,
}) => {
  const first = await asSuperadmin(page, authenticator);
  const admin = await newStaffMember(browser, page, 'superadmin', { displayName: 'Kim Keys' });
  const p = admin.page;
  await signIn(p);
  const signedInAt = Date.now();

  await p.goto('/audit/checkpoints');
  await expect(p.getByRole('heading', { level: 1, name: 'Audit checkpoints' })).toBeVisible();
  // The periodic ticker may sign one too meanwhile, so look for a new row at the seq the answer names.
  const rows = p.locator('tr[data-checkpoint-id]');
  const before = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-checkpoint-id')));
  await p.getByRole('button', { name: 'Sign a checkpoint now' }).click();
  const signed = p.getByText(/^A checkpoint of the current head, seq ([\d,]+), is signed and stored\.$/);
  await expect(signed).toBeVisible();
  const seq = (/seq ([\d,]+)/.exec(await signed.innerText())?.[1] ?? '').replaceAll(',', '');
  await expect
    .poll(() =>
      rows.evaluateAll(
        (trs, old) =>
          trs
            .filter((tr) => !old.includes(tr.getAttribute('data-checkpoint-id')))
            .map((tr) => tr.dataset.checkpointSeq),
        before,
      ),
    )
    .toContain(seq);
  await expect(p.getByRole('heading', { name: /\(signs now\)/ })).toBeVisible();
  await expectAccessible(p);
  const download = p.waitForEvent('download');
  await p.getByRole('link', { name: /Download checkpoints and public keys/ }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^audit-checkpoints-.*\.json$/);

  await p.goto('/audit/keys');
  await expect(p.getByRole('heading', { level: 1, name: 'Audit keys' })).toBeVisible();
  const active = await p
    .locator('tr[data-key-state="active"][data-audit-key]')
    .first()
    .getAttribute('data-audit-key');
  await expectAccessible(p);

  // Past the step-up window, the rotation asks for the security key again.
  await p.waitForTimeout(Math.max(0, signedInAt + (STEP_UP_MAX_AGE_S + 1) * 1000 - Date.now()));
  // The e2e portal reads its secrets as files, as in production: the operator staged e2e-k2 beforehand.
  await p.getByLabel('New HMAC key').selectOption({ label: 'e2e-k2 (staged)' });
  await p.getByRole('button', { name: 'Rotate the HMAC key' }).click();
  await confirmStepUp(p);
  // Rotating the HMAC key needs a second person (#15): a request, and the key in use stays as it was…
  await expect(p.getByText(REQUESTED)).toBeVisible();
  const hmacKeys = p.getByRole('table', { name: 'HMAC keys' });
  await p.reload();
  await expect(hmacKeys.locator(`tr[data-audit-key="${active}"]`)).toHaveAttribute(
    'data-key-state',
    'active',
  );
  // …until the first superadmin, in their own browser, approves it on /approvals.
  await visit(page, '/approvals');
  const request = page.locator('li[data-request-id]', { hasText: 'Rotate the audit HMAC key' }).filter({
    hasText: admin.email,
  });
  await expect(request).toHaveCount(1);
  await expect(request).toContainText('e2e-k2');
  await approve(page, (await request.getAttribute('data-request-id'))!);
  await p.reload();
  await expect(hmacKeys.locator(`tr[data-audit-key="${active}"]`)).toHaveAttribute(
    'data-key-state',
    'retired',
  );
  const rotated = await hmacKeys.locator('tr[data-key-state="active"]').getAttribute('data-audit-key');
  expect(rotated).not.toBe(active);
  // The rotation entry itself is MACed with the old key; every entry after it with the new one.
  await expect(p.getByTestId('newest-entry')).toContainText(`MACed with ${active}`);
  await p.goto('/audit/checkpoints');
  await p.getByRole('button', { name: 'Sign a checkpoint now' }).click();
  await expect(
    p.getByText(/^A checkpoint of the current head, seq [\d,]+, is signed and stored\.$/),
  ).toBeVisible();
  await p.goto('/audit/keys');
  await expect(p.getByTestId('newest-entry')).toContainText(`MACed with ${rotated}`);
  // The rotation is the approver's write; its entry names the requester beside them.
  await expect(p.getByRole('table', { name: 'Rotations of the HMAC key' })).toContainText(first.email);
  await p.goto('/audit?action=audit.hmac_key.rotated');
  await expect(p.locator('tr[data-action="audit.hmac_key.rotated"]').first()).toContainText(
    `"requested_by_email":"${admin.email}"`,
  );

  await p.goto('/audit/verify');
  await p.getByRole('button', { name: 'Verify chain' }).click();
  await expect(p.getByTestId('verify-progress')).toHaveAttribute('data-status', 'valid', { timeout: 30_000 });
  await expect(
    p.locator('[role="status"]', { hasText: /^Valid\..*matches the signed checkpoint/ }),
  ).toBeVisible();
  await admin.close();
});
