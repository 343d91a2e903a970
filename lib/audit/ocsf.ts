import type { AuditAction } from './actions';
import type { ChainEntry } from './chain';

/**
 * Audit entries as OCSF 1.8.0 events (DESIGN section 6, docs/AUDIT.md "OCSF export"). Every action has
 * an explicit mapping; each event carries the chained entry itself in `unmapped.audit`, so an export can be
 * verified on its own, and shows `seq`, `hmac_key_id` and `hmac` in `metadata` and `unmapped`.
 */
export const OCSF_VERSION = '1.8.0';
const PRODUCT = { name: 'Arbitex Staff Portal', vendor_name: 'Arbitex', uid: 'arbitex-staff-portal' };
const SERVICE = { name: 'Arbitex Staff Portal', uid: 'arbitex-staff-portal' };

export const OCSF_CLASSES = {
  entity_management: {
    uid: 3004,
    name: 'Entity Management',
    category_uid: 3,
    category_name: 'Identity & Access Management',
  },
  authentication: {
    uid: 3002,
    name: 'Authentication',
    category_uid: 3,
    category_name: 'Identity & Access Management',
  },
  api_activity: { uid: 6003, name: 'API Activity', category_uid: 6, category_name: 'Application Activity' },
} as const;
export type OcsfClass = keyof typeof OCSF_CLASSES;

/** Entity Management activities (class 3004). */
const EM = {
  create: [1, 'Create'],
  update: [3, 'Update'],
  delete: [4, 'Delete'],
  enroll: [6, 'Enroll'],
  enable: [8, 'Enable'],
  disable: [9, 'Disable'],
  suspend: [12, 'Suspend'],
  resume: [13, 'Resume'],
} as const;
/** Authentication activities (class 3002). */
const AUTH = {
  logon: [1, 'Logon'],
  logoff: [2, 'Logoff'],
  account_switch: [7, 'Account Switch'],
  other: [99, 'Other'],
} as const;
/** API Activity activities (class 6003). */
const API = { create: [1, 'Create'], read: [2, 'Read'], update: [3, 'Update'] } as const;

export type OcsfMapping =
  | { class: 'entity_management'; activity: keyof typeof EM }
  | { class: 'authentication'; activity: keyof typeof AUTH; name?: string }
  | { class: 'api_activity'; activity: keyof typeof API };

const em = (activity: keyof typeof EM): OcsfMapping => ({ class: 'entity_management', activity });
const auth = (activity: keyof typeof AUTH, name?: string): OcsfMapping => ({
  class: 'authentication',
  activity,
  ...(name && { name }),
});
const api = (activity: keyof typeof API): OcsfMapping => ({ class: 'api_activity', activity });

/**
 * Every action's class and activity. A Record over the closed list: a new action does not compile until
 * it is mapped here (and test/ocsf.test.ts checks each against the schema).
 */
export const OCSF_MAPPING: Record<AuditAction, OcsfMapping> = {
  'system.seed': em('create'),
  'staff.invited': em('create'),
  'staff.invite_revoked': em('delete'),
  'staff.enrolled': em('enroll'),
  'staff.signin.success': auth('logon'),
  'staff.signin.failure': auth('logon'),
  'staff.signout': auth('logoff'),
  // A fresh user-verified assertion inside a session: a logon that opens no new session.
  'staff.step_up': auth('logon'),
  'staff.role_changed': em('update'),
  'staff.disabled': em('disable'),
  'staff.enabled': em('enable'),
  'staff.key.added': em('create'),
  'staff.key.renamed': em('update'),
  'staff.key.revoked': em('delete'),
  'staff.key.locked': em('disable'),
  'staff.key.unlocked': em('enable'),
  'staff.session.revoked': auth('logoff'),
  'acting.started': auth('account_switch'),
  // OCSF has no "switch back": the end of an acting context is Authentication "Other", named.
  'acting.stopped': auth('other', 'Account Switch End'),
  'acting.expired': auth('other', 'Account Switch End'),
  'acting.superseded': auth('other', 'Account Switch End'),
  'acting.ended_by_admin': auth('other', 'Account Switch End'),
  'platform_token.minted': api('create'),
  'signing_key.rotated': em('update'),
  'org.updated': em('update'),
  'org.plan_tier.updated': em('update'),
  'org.mfa_policy.updated': em('update'),
  'org.rate_limits.updated': em('update'),
  'org.rate_limit_override.created': em('create'),
  'org.rate_limit_override.revoked': em('delete'),
  'org.entitlements.updated': em('update'),
  'org.outpost.inference_mode.updated': em('update'),
  'org.suspended': em('suspend'),
  'org.resumed': em('resume'),
  'org.support_note.created': em('create'),
  'plan.defaults.updated': em('update'),
  'audit.verified': api('read'),
  'audit.checkpoint.signed': api('create'),
  'audit.hmac_key.rotated': em('update'),
  'audit.checkpoint_key.rotated': em('update'),
  'audit.exported': api('read'),
  'audit.verify.started': api('read'),
  'audit.checkpoints.exported': api('read'),
  // An audit entry that was changed while it waited to be chained, recorded as a failed create.
  'audit.inbox_rejected': api('create'),
  // A request for a dual-controlled write is an entity of its own: made, decided, ended.
  'approval.requested': em('create'),
  'approval.rejected': em('delete'),
  'approval.withdrawn': em('delete'),
  'approval.expired': em('delete'),
  'approval.failed': em('delete'),
  'approval.break_glass_reviewed': em('update'),
};

/** The OCSF event of one entry. `entry` must be the chained entry exactly as stored (lib/audit/export.ts). */
export type OcsfEvent = Record<string, unknown> & {
  class_uid: number;
  activity_id: number;
  type_uid: number;
  time: number;
  unmapped: { seq: number; hmac_key_id: string; hmac: string; audit: ChainEntry } & Record<string, unknown>;
};

export function toOcsf(entry: ChainEntry): OcsfEvent {
  const mapping = OCSF_MAPPING[entry.action as AuditAction];
  if (!mapping) throw new Error(`No OCSF mapping for the audit action "${entry.action}"`);
  const cls = OCSF_CLASSES[mapping.class];
  const [activityId, activityName] =
    mapping.class === 'entity_management'
      ? EM[mapping.activity]
      : mapping.class === 'authentication'
        ? AUTH[mapping.activity]
        : API[mapping.activity];
  const ok = entry.outcome === 'success';
  const diff = isRecord(entry.diff) ? entry.diff : {};
  const reason = typeof diff.reason === 'string' ? diff.reason : undefined;

  const staff = entry.actor_staff_id
    ? {
        uid: entry.actor_staff_id,
        ...(entry.actor_email && { name: entry.actor_email, email_addr: entry.actor_email }),
        type: 'Admin',
        type_id: 2,
      }
    : null;
  const actor = {
    app_name: PRODUCT.name,
    app_uid: PRODUCT.uid,
    ...(staff && { user: staff }),
    // The acting context is the session the staff member acts in (DESIGN section 5).
    ...(entry.acting_context_id && { session: { uid: entry.acting_context_id } }),
  };
  const srcEndpoint = entry.src_ip ? { ip: entry.src_ip } : null;

  const event: Record<string, unknown> = {
    class_uid: cls.uid,
    class_name: cls.name,
    category_uid: cls.category_uid,
    category_name: cls.category_name,
    activity_id: activityId,
    activity_name: mapping.class === 'authentication' && mapping.name ? mapping.name : activityName,
    type_uid: cls.uid * 100 + activityId,
    type_name: `${cls.name}: ${mapping.class === 'authentication' && mapping.name ? mapping.name : activityName}`,
    time: Date.parse(entry.occurred_at),
    severity_id: severity(entry),
    severity: SEVERITY_NAMES[severity(entry)],
    status_id: ok ? 1 : 2,
    status: ok ? 'Success' : 'Failure',
    ...(!ok && { status_detail: reason ?? entry.outcome }),
    ...(entry.outcome !== 'success' && { status_code: entry.outcome }),
    message: message(entry),
    metadata: {
      version: OCSF_VERSION,
      product: PRODUCT,
      uid: entry.id,
      event_code: entry.action,
      sequence: entry.seq,
      log_name: 'audit_log',
      original_time: entry.occurred_at,
      ...(entry.request_id && { correlation_uid: entry.request_id }),
      labels: [`seq:${entry.seq}`, `hmac_key_id:${entry.hmac_key_id}`, `hmac:${entry.hmac}`],
    },
    actor,
    ...(srcEndpoint && { src_endpoint: srcEndpoint }),
    ...(entry.user_agent && { http_request: { user_agent: entry.user_agent } }),
  };

  if (mapping.class === 'entity_management') {
    Object.assign(event, entityFields(entry, diff, reason));
  } else if (mapping.class === 'authentication') {
    Object.assign(event, authFields(entry, mapping, staff, diff));
  } else {
    Object.assign(event, {
      api: {
        operation: entry.action,
        service: SERVICE,
        ...(entry.request_id && { request: { uid: entry.request_id } }),
      },
      // Required by the class: a system entry (no client address) names the portal as its source.
      src_endpoint: srcEndpoint ?? { svc_name: PRODUCT.uid },
      ...(entry.target_type && {
        resources: [
          {
            type: entry.target_type,
            ...(entry.target_id ? { uid: entry.target_id } : { name: entry.target_type }),
          },
        ],
      }),
    });
  }

  event.unmapped = {
    seq: entry.seq,
    hmac_key_id: entry.hmac_key_id,
    hmac: entry.hmac,
    prev_hmac: entry.prev_hmac,
    acting_org_id: entry.acting_org_id,
    org_id: entry.org_id,
    outcome: entry.outcome,
    ...approvalFields(diff),
    audit: entry,
  };
  return event as OcsfEvent;
}

/**
 * A dual-controlled write names two people: the actor executed it (the approver, or the requester under
 * break-glass); the requester is the second user, with the request and both step-up times.
 */
function approvalFields(diff: Record<string, unknown>) {
  if (typeof diff.approval_request_id !== 'string') return {};
  return {
    approval: {
      request_uid: diff.approval_request_id,
      break_glass: diff.break_glass === true,
      requester_step_up_at: diff.requester_step_up_at ?? null,
      approver_step_up_at: diff.approver_step_up_at ?? null,
    },
    second_user: {
      uid: diff.requested_by,
      ...(typeof diff.requested_by_email === 'string' && {
        name: diff.requested_by_email,
        email_addr: diff.requested_by_email,
      }),
      type: 'Admin',
      type_id: 2,
      role: 'requester',
    },
  };
}

const SEVERITY_NAMES: Record<number, string> = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' };

/**
 * Informational, except refusals (Low), a locked key or a suspension (Medium): worth a look, and a write
 * executed under break-glass, without its second person (High).
 */
function severity(entry: ChainEntry): number {
  if (isRecord(entry.diff) && entry.diff.break_glass === true) return 4;
  if (entry.action === 'staff.key.locked' || entry.action === 'org.suspended') return 3;
  return entry.outcome === 'success' ? 1 : 2;
}

function message(entry: ChainEntry): string {
  const who = entry.actor_email ?? (entry.actor_staff_id ? `staff ${entry.actor_staff_id}` : 'the portal');
  const target = entry.target_type
    ? ` on ${entry.target_type}${entry.target_id ? ` ${entry.target_id}` : ''}`
    : '';
  const acting = entry.acting_org_id ? ` acting for organisation ${entry.acting_org_id}` : '';
  return `${entry.action} (${entry.outcome}) by ${who}${acting}${target}`;
}

/** The managed entity: an organisation (type 4), a staff member (type 2), or whatever the target names. */
function entityFields(entry: ChainEntry, diff: Record<string, unknown>, reason: string | undefined) {
  let entity: Record<string, unknown>;
  if (entry.target_type === 'organization' || (!entry.target_type && entry.org_id)) {
    const uid = entry.target_id ?? entry.org_id!;
    entity = { type: 'Organization', type_id: 4, uid, org: { uid } };
  } else if (entry.target_type === 'staff_user' && entry.target_id) {
    entity = { type: 'User', type_id: 2, uid: entry.target_id, user: { uid: entry.target_id } };
  } else {
    entity = {
      type: entry.target_type ?? entry.action,
      ...(entry.target_id ? { uid: entry.target_id } : { name: entry.target_type ?? entry.action }),
      ...(entry.org_id && { org: { uid: entry.org_id } }),
    };
  }
  const before = diff.before;
  const after = diff.after;
  return {
    entity: { ...entity, ...(before !== undefined && { data: before }) },
    ...(after !== undefined && { entity_result: { ...entity, data: after } }),
    ...(reason && { comment: reason }),
  };
}

function authFields(
  entry: ChainEntry,
  mapping: Extract<OcsfMapping, { class: 'authentication' }>,
  staff: Record<string, unknown> | null,
  diff: Record<string, unknown>,
) {
  // The subject: the staff member signing in or out, or whose session an administrator revoked.
  const revokedFor =
    entry.action === 'staff.session.revoked' && typeof diff.staff_id === 'string' ? diff.staff_id : null;
  const user = revokedFor
    ? { uid: revokedFor }
    : (staff ?? {
        name: 'unknown',
        ...(entry.target_type === 'staff_credential' &&
          entry.target_id && { credential_uid: entry.target_id }),
      });
  const fields: Record<string, unknown> = {
    user,
    service: SERVICE,
    auth_protocol_id: 99,
    auth_protocol: 'WebAuthn (FIDO2)',
  };
  // A security key with user verification: possession and a PIN or biometric.
  if (entry.action.startsWith('staff.sign') || entry.action === 'staff.step_up') fields.is_mfa = true;
  if (entry.target_type === 'staff_session' && entry.target_id) fields.session = { uid: entry.target_id };
  if (mapping.activity === 'account_switch' || mapping.name === 'Account Switch End') {
    fields.account_switch_type_id = 99;
    fields.account_switch_type = 'Acting context';
    if (entry.target_type === 'acting_context' && entry.target_id) fields.session = { uid: entry.target_id };
  }
  return fields;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
