import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Sign in' };

export default function LoginPage() {
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <section className="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
        <p className="text-xs font-semibold tracking-widest text-slate-500 uppercase">int.arbitex.ai</p>
        <h1 className="mt-1 text-2xl font-semibold">Staff sign-in</h1>
        <p className="mt-4 text-sm text-slate-600">
          Staff sign in with a FIDO2 security key only. Security-key sign-in is not enabled in this build yet,
          so no one can sign in and no organisation data is served.
        </p>
        <button
          type="button"
          disabled
          className="mt-6 w-full cursor-not-allowed rounded-md bg-slate-300 px-4 py-2 text-sm font-medium text-slate-600"
        >
          Sign in with security key
        </button>
      </section>
    </main>
  );
}
