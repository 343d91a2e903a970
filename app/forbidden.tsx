import Link from 'next/link';

export default function Forbidden() {
  return (
    <main className="mx-auto max-w-xl p-10">
      <h1 className="text-2xl font-semibold">Not allowed</h1>
      <p className="mt-2 text-sm text-slate-600">
        Your role does not allow this page. If you need it for your work, ask a superadmin.
      </p>
      <Link href="/" className="mt-4 inline-block text-sm text-sky-700 hover:underline">
        Back to the start page
      </Link>
    </main>
  );
}
