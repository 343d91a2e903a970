/**
 * The labels people see for the fields of the portal's requests (issue 16, item 8): error messages name a
 * field by its label, as the form shows it, never by its key. Keys not listed here are spelt out from
 * their camelCase or snake_case (`ticketRef` → `Ticket ref`), so a key never reaches a person as it is.
 */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  '(request)': 'Request',
  orgId: 'Organisation',
  org: 'Organisation',
  planTier: 'Plan tier',
  tier: 'Tier',
  version: 'Version',
  reason: 'Reason',
  ticketRef: 'Ticket reference',
  durationMinutes: 'Duration',
  requestsPerMinute: 'Requests per minute',
  tokensPerMinute: 'Tokens per minute',
  concurrentRequests: 'Concurrent requests',
  monthlyRequestQuota: 'Monthly request quota',
  limits: 'Limits',
  confirmBlocked: 'Confirmation of 0',
  expiresAt: 'Expires',
  activeOverrideId: 'Override in force',
  overrideId: 'Override',
  outpostId: 'Outpost',
  inferenceMode: 'Inference mode',
  suspended: 'Kill switch',
  required: 'MFA required',
  methods: 'MFA methods',
  useTierDefault: 'Use the tier default',
  maxOutposts: 'Max Outposts',
  ssoEnabled: 'SSO',
  scimEnabled: 'SCIM',
  siemConnectors: 'SIEM connectors',
  auditRetentionDays: 'Audit retention (days)',
  dedicatedSupport: 'Dedicated support',
  contractRef: 'Contract reference',
  removeEntitlements: 'Remove the entitlements',
  body: 'Note',
  label: 'Label',
  mfaRequired: 'MFA required',
  mfaAllowedMethods: 'Allowed MFA methods',
  email: 'E-mail',
  role: 'Role',
  displayName: 'Your name',
  inviteId: 'Invitation',
  staffId: 'Staff member',
  status: 'Status',
  nickname: 'Name',
  credentialId: 'Security key',
  keyId: 'Key',
  scope: 'Token scope',
  contextId: 'Acting context',
  sessionId: 'Session',
  actor: 'Staff member',
  context: 'Acting context',
  action: 'Action',
  outcome: 'Outcome',
  from: 'From',
  to: 'To',
  from_seq: 'First seq',
  fromSeq: 'First seq',
  toSeq: 'Last seq',
  to_seq: 'Last seq',
};

/** `ticketRef` → `Ticket ref`, `from_seq` → `From seq`. */
function spelt(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The label of a field key, or of a path into one: `methods.1` → `MFA methods (item 2)`. */
export function fieldLabel(key: string): string {
  const [head = key, ...rest] = key.split('.');
  const label = FIELD_LABELS[head] ?? spelt(head);
  const index = rest.find((p) => /^\d+$/.test(p));
  return index === undefined ? label : `${label} (item ${Number(index) + 1})`;
}
