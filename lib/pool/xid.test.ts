import { describe, expect, it } from 'vitest';
import { bySeverity, offTheBus, XID_BUCKETS, XID_CATALOGUE, xidAction, xidBucket, xidName } from './xid';

describe("the XID catalogue (NVIDIA's resolution buckets)", () => {
  it('puts the XIDs in their immediate-action bucket', () => {
    expect([13, 31, 94].map(xidBucket)).toEqual(['RESTART_APP', 'RESTART_APP', 'RESTART_APP']);
    expect([48, 95, 119].map(xidBucket)).toEqual(['RESET_GPU', 'RESET_GPU', 'RESET_GPU']);
    expect(xidBucket(79)).toBe('RESTART_BM');
    expect([43, 45, 92].map(xidBucket)).toEqual(['IGNORE', 'IGNORE', 'IGNORE']);
  });

  it('says what to do, and points an unlisted XID to the catalogue rather than guessing', () => {
    expect(xidAction(79)).toBe('reboot the node');
    expect(xidAction(48)).toBe('reset the GPU');
    expect(xidAction(31)).toBe('application error: restart the application');
    expect(xidAction(43)).toBe('no action');
    expect(xidBucket(1000)).toBeNull();
    expect(xidName(1000)).toBe('XID 1000');
    expect(xidAction(1000)).toContain("NVIDIA's XID catalogue");
  });

  it('orders XIDs from the most disruptive action to none, unlisted ones just after the resets', () => {
    expect([43, 31, 1000, 48, 79].sort(bySeverity)).toEqual([79, 48, 1000, 31, 43]);
  });

  it('names every listed XID and gives every bucket an action', () => {
    for (const [xid, entry] of Object.entries(XID_CATALOGUE)) {
      expect(entry.name.length, xid).toBeGreaterThan(0);
      expect(XID_BUCKETS[entry.bucket].action.length).toBeGreaterThan(0);
    }
    expect(offTheBus(79)).toBe(true);
    expect(offTheBus(48)).toBe(false);
  });
});
