/**
 * Next calls register() once when a server starts, in each runtime. The Node.js server starts the SIEM
 * deliverer in the background (lib/siem/background.ts); the edge runtime (middleware) and the build do not.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || process.env.NEXT_PHASE === 'phase-production-build') return;
  const { startSiemDelivery } = await import('@/lib/siem/background');
  // Not awaited past the start: register() must return before the server takes requests.
  void startSiemDelivery();
}
