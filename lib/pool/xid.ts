/**
 * The XIDs the pool view names (NVIDIA's XID catalogue, docs.nvidia.com/deploy/xid-errors): the one place
 * the page reads XIDs from. Resolution buckets (issue 17 item 5) are not here yet.
 */

export const XID_NAMES: Readonly<Record<number, string>> = {
  13: 'graphics engine exception',
  31: 'GPU memory page fault',
  43: 'GPU stopped processing',
  48: 'double-bit ECC error',
  79: 'GPU has fallen off the bus',
};

/** The XID's name, or "XID n" for one not listed here. */
export function xidName(xid: number): string {
  return XID_NAMES[xid] ?? `XID ${xid}`;
}

/** The GPU fell off the bus: it serves nothing until the node is rebooted. */
export function offTheBus(xid: number): boolean {
  return xid === 79;
}
