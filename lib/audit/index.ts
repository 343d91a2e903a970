export { AuditAction } from './actions';
export { appendEntries, type NewEntry } from './append';
export { canonicalJson } from './canonical';
export { type ChainEntry, entryHmac, GENESIS_HMAC } from './chain';
export { type HmacKeyRing, hmacKeyRing, parseKeyRing } from './keys';
export { isSecretField, redact, REDACTED } from './redact';
export { type BreakKind, verifyChain, type VerifyOptions, type VerifyResult } from './verify';
export {
  type AuditActor,
  type AuditCtx,
  type AuditEntryInput,
  AuditRecorder,
  recordAudit,
  sameValues,
  Unchanged,
  unchanged,
  withAudit,
} from './with-audit';
