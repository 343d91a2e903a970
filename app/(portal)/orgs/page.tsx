import type { Metadata } from 'next';
import Link from 'next/link';
import { requireStaffPage } from '@/lib/auth/current';
import { listOrgs } from '@/lib/queries/orgs';

export const metadata: Metadata = { title: 'Organisations' };

export default async function OrgsPage() {
  const ctx = await requireStaffPage('orgs.read');
  const orgs = await listOrgs(ctx);
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Organisations</h1>
      <table className="w-full border-collapse text-left text-sm">
        <thead className="border-b border-slate-200 text-slate-500">
          <tr>
            <th className="py-2 pr-4 font-medium">Name</th>
            <th className="py-2 pr-4 font-medium">Slug</th>
            <th className="py-2 pr-4 font-medium">Tier</th>
            <th className="py-2 font-medium">Status</th>
          </tr>
        </thead>
        <tbody>
          {orgs.map((o) => (
            <tr key={o.id} className="border-b border-slate-100">
              <td className="py-2 pr-4">
                <Link href={`/orgs/${o.id}`} className="text-sky-700 hover:underline">
                  {o.name}
                </Link>
              </td>
              <td className="py-2 pr-4 font-mono text-xs">{o.slug}</td>
              <td className="py-2 pr-4 font-mono text-xs">{o.planTier}</td>
              <td className="py-2">{o.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
