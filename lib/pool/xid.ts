/**
 * NVIDIA's XID catalogue (docs.nvidia.com/deploy/xid-errors, "Analyzing Xid Errors with the Xid Catalog"),
 * as far as the pool view reads it: each XID's name and the catalogue's resolution bucket (its "Immediate
 * Action" column). The one place the page reads XIDs from; an XID not listed reads "XID n" and "not in
 * the portal's table".
 */

/** The catalogue's immediate-action buckets that the listed XIDs fall in. */
export type XidBucket = 'RESTART_APP' | 'RESET_GPU' | 'RESTART_BM' | 'IGNORE' | 'CONTACT_SUPPORT';

/** What staff do about each bucket, in the page's words. Ordered from the most to the least disruptive. */
export const XID_BUCKETS: Readonly<Record<XidBucket, { action: string; rank: number }>> = {
  RESTART_BM: { action: 'reboot the node', rank: 0 },
  RESET_GPU: { action: 'reset the GPU', rank: 1 },
  CONTACT_SUPPORT: { action: 'contact NVIDIA support', rank: 2 },
  RESTART_APP: { action: 'application error: restart the application', rank: 3 },
  IGNORE: { action: 'no action', rank: 4 },
};

export const XID_CATALOGUE: Readonly<Record<number, { name: string; bucket: XidBucket }>> = {
  8: { name: 'GPU stopped processing (idle timeout)', bucket: 'RESTART_APP' },
  13: { name: 'graphics engine exception', bucket: 'RESTART_APP' },
  31: { name: 'GPU memory page fault', bucket: 'RESTART_APP' },
  43: { name: 'GPU stopped processing', bucket: 'IGNORE' },
  45: { name: 'preemptive cleanup after a channel was stopped', bucket: 'IGNORE' },
  48: { name: 'double-bit ECC error', bucket: 'RESET_GPU' },
  63: { name: 'page retirement or row remapping recorded', bucket: 'RESET_GPU' },
  64: { name: 'page retirement or row remapping failed', bucket: 'RESET_GPU' },
  74: { name: 'NVLink error', bucket: 'RESET_GPU' },
  79: { name: 'GPU has fallen off the bus', bucket: 'RESTART_BM' },
  92: { name: 'high single-bit ECC error rate', bucket: 'IGNORE' },
  94: { name: 'contained ECC error', bucket: 'RESTART_APP' },
  95: { name: 'uncontained ECC error', bucket: 'RESET_GPU' },
  119: { name: 'GSP RPC timeout', bucket: 'RESET_GPU' },
  120: { name: 'GSP error', bucket: 'RESET_GPU' },
};

/** The XID's name, or "XID n" for one not listed here. */
export function xidName(xid: number): string {
  return XID_CATALOGUE[xid]?.name ?? `XID ${xid}`;
}

/** The XID's resolution bucket, or null for one not listed here. */
export function xidBucket(xid: number): XidBucket | null {
  return XID_CATALOGUE[xid]?.bucket ?? null;
}

/** What to do about the XID, in words: its bucket's action, or a pointer to the catalogue. */
export function xidAction(xid: number): string {
  const bucket = xidBucket(xid);
  return bucket ? XID_BUCKETS[bucket].action : "not in the portal's table: see NVIDIA's XID catalogue";
}

/** The GPU fell off the bus: it serves nothing until the node is rebooted. */
export function offTheBus(xid: number): boolean {
  return xid === 79;
}

/** Sorts XIDs so that the one needing the most disruptive action comes first (unlisted ones after resets). */
export function bySeverity(a: number, b: number): number {
  const rank = (x: number) => {
    const bucket = xidBucket(x);
    return bucket ? XID_BUCKETS[bucket].rank : 1.5;
  };
  return rank(a) - rank(b) || a - b;
}
