import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OcsfSchema } from '@/test/ocsf-schema';
import { AuditAction } from './actions';
import { type ChainEntry, entryHmac, GENESIS_HMAC } from './chain';
import { OCSF_CLASSES, OCSF_MAPPING, toOcsf } from './ocsf';

const schema = new OcsfSchema();
const KEY = Buffer.alloc(32, 3);

/** A chained entry of `action`, in one of the shapes the portal writes. */
function entry(action: string, variant: 'staff' | 'acting' | 'system' | 'anonymous', seq = 7): ChainEntry {
  const staffId = crypto.randomUUID();
  const orgId = crypto.randomUUID();
  const contextId = crypto.randomUUID();
  const base: Omit<ChainEntry, 'hmac'> = {
    seq,
    id: crypto.randomUUID(),
    occurred_at: '2026-11-23T15:20:43.123Z',
    request_id: variant === 'system' ? null : `req_${seq}`,
    actor_staff_id: variant === 'staff' || variant === 'acting' ? staffId : null,
    actor_email: variant === 'staff' || variant === 'acting' ? 'ada@arbitex.ai' : null,
    acting_org_id: variant === 'acting' ? orgId : null,
    acting_context_id: variant === 'acting' ? contextId : null,
    org_id: action.startsWith('org.') || action.startsWith('acting.') ? orgId : null,
    action,
    target_type: action.startsWith('org.')
      ? 'organization'
      : action.startsWith('staff.key')
        ? 'staff_credential'
        : action === 'staff.session.revoked' || action === 'staff.signout'
          ? 'staff_session'
          : action.startsWith('acting.')
            ? 'acting_context'
            : action === 'staff.role_changed'
              ? 'staff_user'
              : variant === 'system'
                ? null
                : 'thing',
    target_id: variant === 'system' ? null : crypto.randomUUID(),
    outcome: variant === 'anonymous' ? 'failure' : 'success',
    diff:
      variant === 'system'
        ? null
        : {
            reason: 'Customer asked',
            before: { requests_per_minute: 60 },
            after: { requests_per_minute: 120 },
            staff_id: staffId,
          },
    src_ip: variant === 'system' ? null : '10.1.2.3',
    user_agent: variant === 'system' ? null : 'Mozilla/5.0',
    enforcement_action: null,
    policy_rule_id: null,
    pack_id: null,
    framework_ref: null,
    hmac_key_id: 'k1',
    prev_hmac: GENESIS_HMAC,
  };
  return { ...base, hmac: entryHmac(KEY, base) };
}

const VARIANTS = ['staff', 'acting', 'system', 'anonymous'] as const;

describe('OCSF events', () => {
  it('the schema validator resolves extends and $include, and rejects what it should', () => {
    const em = schema.eventClass('entity_management');
    expect(em.uid).toBe(3004);
    expect(em.attributes.metadata?.requirement).toBe('required'); // from base_event
    expect(em.attributes.actor?.profile).toBeNull(); // iam undoes the host profile's claim on actor
    expect(em.attributes.cloud?.profile).toBe('cloud'); // base_event's $include of profiles/cloud.json
    expect(schema.eventClass('authentication').uid).toBe(3002);
    expect(schema.eventClass('api_activity').uid).toBe(6003);

    const good = toOcsf(entry('org.rate_limits.updated', 'acting'));
    expect(schema.validate('entity_management', good)).toEqual([]);
    const broken = structuredClone(good) as Record<string, unknown>;
    delete broken.entity;
    broken.severity_id = 42;
    broken.invented = 1;
    (broken.metadata as Record<string, unknown>).product = {};
    (broken.actor as Record<string, unknown>).user = { uid: 'x', email_addr: 'not an e-mail' };
    expect(schema.validate('entity_management', broken).sort()).toEqual(
      [
        'entity_management.entity: required',
        'entity_management.severity_id: 42 is not in its enum',
        'entity_management.invented: not an attribute of entity_management',
        'entity_management.metadata.product: needs at least one of name, uid',
        'entity_management.actor.user.email_addr: "not an e-mail" is not a valid email_t',
      ].sort(),
    );
    expect(schema.validate('entity_management', { ...good, type_uid: 300420 })).toEqual([
      'entity_management.type_uid: 300420 is not in its enum',
    ]);
    expect(schema.validate('entity_management', { ...good, class_uid: 3002 })).toEqual([
      'entity_management.class_uid: 3002 is not in its enum',
    ]);
    const signIn = toOcsf(entry('staff.signin.success', 'staff'));
    expect(schema.validate('authentication', signIn)).toEqual([]);
    expect(schema.validate('authentication', { ...signIn, service: undefined })).toEqual([
      'authentication: needs at least one of service, dst_endpoint',
    ]);
    // The cloud profile's required `cloud` is not required while the profile is not applied.
    expect(schema.validate('entity_management', { ...good, cloud: { provider: 'x' } })).toContain(
      'entity_management.cloud: belongs to the profile cloud, not applied',
    );
  });

  it('every action has a mapping, and each of its events is valid against the OCSF 1.8.0 schema', () => {
    const classes = new Map<number, string>(Object.entries(OCSF_CLASSES).map(([name, c]) => [c.uid, name]));
    for (const action of AuditAction.options) {
      expect(OCSF_MAPPING[action], `no OCSF mapping for ${action}`).toBeDefined();
      for (const variant of VARIANTS) {
        const e = entry(action, variant);
        const event = toOcsf(e);
        const className = classes.get(event.class_uid)!;
        expect(className, `${action}: class ${event.class_uid}`).toBeDefined();
        expect(schema.validate(className, event), `${action} (${variant})`).toEqual([]);
        expect(event.type_uid).toBe(event.class_uid * 100 + event.activity_id);
        expect(event.class_uid).toBe(schema.eventClass(className).uid);
        // The chained entry, unchanged, and the chain fields in plain sight.
        expect(event.unmapped.audit).toEqual(e);
        expect(entryHmac(KEY, event.unmapped.audit)).toBe(e.hmac);
        expect(event.unmapped).toMatchObject({
          seq: e.seq,
          hmac_key_id: 'k1',
          hmac: e.hmac,
          acting_org_id: e.acting_org_id,
        });
        expect(event.metadata).toMatchObject({
          uid: e.id,
          sequence: e.seq,
          event_code: action,
          version: '1.8.0',
        });
        expect((event.metadata as { labels: string[] }).labels).toEqual([
          `seq:${e.seq}`,
          'hmac_key_id:k1',
          `hmac:${e.hmac}`,
        ]);
        expect(event.time).toBe(Date.parse(e.occurred_at));
      }
    }
  });

  it('uses the classes and activities the design names', () => {
    const type = (action: string, variant: (typeof VARIANTS)[number] = 'staff') =>
      toOcsf(entry(action, variant)).type_uid;
    expect(type('staff.signin.success')).toBe(300201);
    expect(type('staff.signin.failure', 'anonymous')).toBe(300201);
    expect(type('staff.signout')).toBe(300202);
    expect(type('acting.started')).toBe(300207);
    expect(type('org.rate_limits.updated', 'acting')).toBe(300403);
    expect(type('org.mfa_policy.updated', 'acting')).toBe(300403);
    expect(type('org.plan_tier.updated', 'acting')).toBe(300403);
    expect(type('org.rate_limit_override.created', 'acting')).toBe(300401);
    expect(type('org.rate_limit_override.revoked', 'acting')).toBe(300404);
    expect(type('org.suspended')).toBe(300412);
    expect(type('org.resumed')).toBe(300413);
    expect(type('platform_token.minted', 'acting')).toBe(600301);
    expect(type('audit.exported')).toBe(600302);
  });

  it('puts the staff member in actor.user and the acting context in actor.session, the organisation in unmapped', () => {
    const e = entry('org.rate_limits.updated', 'acting');
    const event = toOcsf(e);
    expect(event.actor).toMatchObject({
      user: { uid: e.actor_staff_id, email_addr: 'ada@arbitex.ai' },
      session: { uid: e.acting_context_id },
    });
    expect(event.unmapped.acting_org_id).toBe(e.acting_org_id);
    expect(event).toMatchObject({
      entity: { type_id: 4, uid: e.target_id, data: { requests_per_minute: 60 } },
      entity_result: { data: { requests_per_minute: 120 } },
      comment: 'Customer asked',
      src_endpoint: { ip: '10.1.2.3' },
    });
    const failed = toOcsf(entry('staff.signin.failure', 'anonymous'));
    expect(failed).toMatchObject({ status_id: 2, status: 'Failure', user: { name: 'unknown' } });
  });
});
