import { getDatabase } from '@/db/client';
import { log } from '@/lib/log';
import { SplunkSink, sinkSettings } from './splunk';

// On globalThis: Next may load this module more than once, and the process must run one deliverer.
const shared = globalThis as { __portalSiemSink?: SplunkSink };

/**
 * Starts SIEM delivery in the background of the portal process (instrumentation.ts calls this once per
 * server). Does nothing when SPLUNK_HEC_URL is unset. A missing token is logged, not fatal: the portal
 * keeps serving, and the status panel on /audit/siem shows that nothing is delivered.
 */
export async function startSiemDelivery(): Promise<void> {
  if (shared.__portalSiemSink) return;
  let settings;
  let db;
  try {
    settings = sinkSettings();
    if (!settings) return;
    ({ db } = await getDatabase());
  } catch (err) {
    log.error({ err }, 'SIEM delivery not started');
    return;
  }
  const sink = new SplunkSink(db, settings, { log: log.child({ component: 'siem' }) });
  shared.__portalSiemSink = sink;
  sink.start();
  log.info({ sink: 'splunk', owner: sink.owner, url: new URL(settings.url).origin }, 'SIEM delivery started');
  // Hand the lease back on a clean shutdown, so another replica takes over at once.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Next's own handler shuts the server down; if there is none, raise the signal again to exit.
      void sink.stop().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    });
  }
}
