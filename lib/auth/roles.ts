/** Staff roles (DESIGN section 1). The Postgres enum `staff_role` is made from this list. */
export const STAFF_ROLES = ['superadmin', 'admin', 'support', 'billing', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
