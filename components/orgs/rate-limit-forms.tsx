'use client';

import { useState } from 'react';
import { ConflictNote, FieldError, SlugConfirmField, TextField } from '@/components/orgs/fields';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { num, parseUtcInput, utc, utcInput } from '@/lib/format';
import { rolesWith } from '@/lib/auth/permissions';
import {
  BLOCK_PERMISSION,
  BLOCK_RULE,
  LIMIT_KEYS,
  LIMIT_LABELS,
  type LimitKey,
  type Limits,
} from '@/lib/rate-limits';

type Texts = Record<LimitKey, string>;

const toTexts = (limits: Limits | null): Texts =>
  Object.fromEntries(LIMIT_KEYS.map((k) => [k, limits?.[k]?.toString() ?? ''])) as Texts;

/** Empty means "not set here" (null); anything else goes to the server as a number, which checks it. */
const toLimits = (texts: Texts): Limits =>
  Object.fromEntries(LIMIT_KEYS.map((k) => [k, texts[k].trim() === '' ? null : Number(texts[k])])) as Limits;

const limitRows = (limits: Limits) =>
  LIMIT_KEYS.map((k): [string, string] => [LIMIT_LABELS[k], limits[k] === null ? 'not set' : num(limits[k])]);

/** The organisation a form writes to, as the step-up dialog names it. */
export interface OrgName {
  name: string;
  slug: string;
}

const anyZero = (texts: Texts) => LIMIT_KEYS.some((k) => texts[k].trim() !== '' && Number(texts[k]) === 0);

/**
 * A write with a 0 blocks the organisation as the kill switch does: the slug typed to confirm, always a
 * fresh key touch, and the dialog names the action and the organisation (the server wants a key check
 * within the last minute).
 */
function blockingStepUp(limits: Limits, confirmBlocked: boolean, org: OrgName) {
  if (!confirmBlocked || !LIMIT_KEYS.some((k) => limits[k] === 0)) return undefined;
  return {
    always: true,
    what: { action: 'Block all traffic with a limit of 0', target: `${org.name} (${org.slug})` },
  };
}

/** The four limit inputs, and the danger panel where a 0 ("blocked") is confirmed with the slug. */
function LimitInputs(props: {
  idPrefix: string;
  org: OrgName;
  texts: Texts;
  onChange: (texts: Texts) => void;
  placeholder: (key: LimitKey) => string;
  typed: string;
  onTyped: (typed: string) => void;
  fields: Record<string, string>;
  /** Whether the role holds the kill switch's permission, which a 0 needs. */
  mayBlock: boolean;
}) {
  return (
    <>
      <div className="grid gap-3 sm:grid-cols-2">
        {LIMIT_KEYS.map((k) => (
          <TextField
            key={k}
            id={`${props.idPrefix}-${k}`}
            label={LIMIT_LABELS[k]}
            type="number"
            min={0}
            step={1}
            inputMode="numeric"
            placeholder={props.placeholder(k)}
            value={props.texts[k]}
            onChange={(e) => props.onChange({ ...props.texts, [k]: e.target.value })}
            error={props.fields[k]}
          />
        ))}
      </div>
      <p className="text-xs text-slate-500">
        {BLOCK_RULE}{' '}
        {props.mayBlock
          ? 'Saving a 0 needs the slug typed below and a fresh security-key check.'
          : `Only ${rolesWith(BLOCK_PERMISSION).join(', ')} (${BLOCK_PERMISSION}) may set one, after a fresh security-key check.`}
      </p>
      {props.mayBlock && anyZero(props.texts) && (
        <div
          role="group"
          aria-label="Block the organisation"
          className="space-y-2 rounded-md border border-red-300 bg-red-50 p-3"
        >
          <p className="text-sm font-medium text-red-900">
            A 0 blocks all traffic for {props.org.name}, like the kill switch.
          </p>
          <SlugConfirmField
            id={`${props.idPrefix}-confirm`}
            slug={props.org.slug}
            value={props.typed}
            onChange={props.onTyped}
          />
        </div>
      )}
    </>
  );
}

/** The organisation's own limits (admin). Empty fields fall back to the tier default. */
export function RateLimitsForm(props: {
  orgId: string;
  org: OrgName;
  limits: Limits | null;
  tierDefaults: Limits;
  version: number | null;
  mayBlock: boolean;
}) {
  const [texts, setTexts] = useState(() => toTexts(props.limits));
  const [typed, setTyped] = useState('');
  const confirmBlocked = anyZero(texts) && typed.trim() === props.org.slug;
  const write = useOrgWrite(`/api/orgs/${props.orgId}/rate-limits`);
  const current = write.conflict as (Limits & { version: number }) | null | undefined;
  const version = current === undefined ? props.version : (current?.version ?? null);

  return (
    <form
      className="space-y-3"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const limits = toLimits(texts);
        void write.submit(
          { ...limits, confirmBlocked, version },
          'The rate limits are saved.',
          blockingStepUp(limits, confirmBlocked, props.org),
        );
      }}
    >
      {write.dialog}
      <h3 className="text-sm font-semibold">Organisation limits</h3>
      <p className="text-xs text-slate-500">Leave a field empty to use the plan tier’s default.</p>
      <LimitInputs
        idPrefix="limits"
        texts={texts}
        onChange={setTexts}
        placeholder={(k) => `tier default: ${num(props.tierDefaults[k])}`}
        org={props.org}
        typed={typed}
        onTyped={setTyped}
        fields={write.error?.fields ?? {}}
        mayBlock={props.mayBlock}
      />
      {current !== undefined ? (
        <ConflictNote
          current={current && limitRows(current)}
          none="The organisation now has no limits of its own."
        />
      ) : (
        <Feedback error={write.error} message={write.message} shown={LIMIT_KEYS} />
      )}
      <Button type="submit" disabled={write.busy}>
        Save rate limits
      </Button>
    </form>
  );
}

interface ActiveOverride extends Limits {
  id: string;
  expiresAt: string;
}

/** The expiry field's value `days` from now: `2026-11-23 15:20`, UTC. */
function daysFromNow(days: number): string {
  return utcInput(new Date(Date.now() + days * 86_400_000));
}

/** A time-boxed override (support, admin), replacing the one in force if there is one. */
export function OverrideForm(props: {
  orgId: string;
  org: OrgName;
  active: ActiveOverride | null;
  maxDays: number;
  mayBlock: boolean;
}) {
  const [texts, setTexts] = useState(() => toTexts(null));
  const [typed, setTyped] = useState('');
  const confirmBlocked = anyZero(texts) && typed.trim() === props.org.slug;
  const [expires, setExpires] = useState('');
  const [reason, setReason] = useState('');
  const write = useOrgWrite(`/api/orgs/${props.orgId}/rate-limit-overrides`);
  const fields = write.error?.fields ?? {};
  const current = write.conflict as ActiveOverride | null | undefined;
  const active = current === undefined ? props.active : current;

  return (
    <form
      className="space-y-3"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const limits = toLimits(texts);
        const created = await write.submit(
          {
            ...limits,
            confirmBlocked,
            // Typed in UTC; what does not read as a time goes as typed, and the server names the field.
            expiresAt: parseUtcInput(expires) ?? expires,
            reason,
            activeOverrideId: active?.id ?? null,
          },
          'The override is in force.',
          blockingStepUp(limits, confirmBlocked, props.org),
        );
        if (created) {
          setTexts(toTexts(null));
          setTyped('');
          setExpires('');
          setReason('');
        }
      }}
    >
      {write.dialog}
      <h3 className="text-sm font-semibold">Time-boxed override</h3>
      <p className="text-xs text-slate-500">
        Set only the limits to override; the others keep their values.
        {active && ` Saving replaces the override in force until ${utc(active.expiresAt)}.`}
      </p>
      <LimitInputs
        idPrefix="override"
        texts={texts}
        onChange={setTexts}
        placeholder={() => 'not overridden'}
        org={props.org}
        typed={typed}
        onTyped={setTyped}
        fields={fields}
        mayBlock={props.mayBlock}
      />
      <FieldError error={fields.limits} />
      <div className="flex flex-wrap items-end gap-3">
        <TextField
          id="override-expires"
          label="Expires"
          hint={`YYYY-MM-DD HH:MM, UTC; at most ${props.maxDays} days ahead`}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          placeholder="YYYY-MM-DD HH:MM"
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
          error={fields.expiresAt}
        />
        <div className="flex gap-2 pb-0.5" role="group" aria-label="Expiry presets">
          {[...new Set([1, 7, props.maxDays])].map((d) => (
            <Button key={d} variant="secondary" onClick={() => setExpires(daysFromNow(d))}>
              {d === 1 ? '1 day' : `${d} days`}
            </Button>
          ))}
        </div>
      </div>
      <TextField
        id="override-reason"
        label="Reason"
        hint="at least 10 characters"
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        error={fields.reason}
      />
      {current !== undefined ? (
        <ConflictNote
          current={current && [...limitRows(current), ['Expires', utc(current.expiresAt)]]}
          none="No override is in force any more."
        />
      ) : (
        <Feedback
          error={write.error}
          message={write.message}
          shown={[...LIMIT_KEYS, 'limits', 'expiresAt', 'reason']}
        />
      )}
      <Button type="submit" disabled={write.busy}>
        {active ? 'Replace override' : 'Add override'}
      </Button>
    </form>
  );
}

export function RevokeOverrideButton(props: { orgId: string; overrideId: string }) {
  const write = useOrgWrite(`/api/orgs/${props.orgId}/rate-limit-overrides/${props.overrideId}/revoke`);
  return (
    <div className="space-y-1">
      {write.dialog}
      <Button variant="secondary" disabled={write.busy} onClick={() => void write.submit({}, 'Revoked.')}>
        Revoke override
      </Button>
      <Feedback error={write.error} message={write.message} />
    </div>
  );
}
