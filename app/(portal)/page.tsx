import type { Metadata } from 'next';
import { requireStaffPage } from '@/lib/auth/current';

export const metadata: Metadata = { title: 'Home' };

export default async function Home() {
  const staff = await requireStaffPage();
  return (
    <section>
      <h1 className="text-2xl font-semibold">Welcome, {staff.displayName}</h1>
      <p className="mt-2 text-sm text-slate-600">
        Signed in as {staff.email} with the role <strong>{staff.role}</strong>. The navigation above lists
        what your role can open.
      </p>
    </section>
  );
}
