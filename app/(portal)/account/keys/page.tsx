import type { Metadata } from 'next';
import { KeysTable } from '@/components/keys/keys-table';
import { requireStaffPage } from '@/lib/auth/current';
import { myKeys } from '@/lib/queries/staff';

export const metadata: Metadata = { title: 'My security keys' };

export default async function MyKeysPage() {
  const staff = await requireStaffPage();
  const keys = await myKeys(staff);
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">My security keys</h1>
      <p className="text-sm text-slate-600">
        Keep at least two keys, stored apart. The last usable key cannot be revoked.
      </p>
      <KeysTable keys={JSON.parse(JSON.stringify(keys))} own />
    </section>
  );
}
