/**
 * `npm run pool:demo`: a real Prometheus (the Debian package) scraping the fixture exporters, with a day
 * of backfilled past, for trying /pool without a GPU pool. Everything it serves is demo data, and the
 * page says so. Stop it with Ctrl-C.
 *
 *   npm run pool:demo                          # Prometheus on 127.0.0.1:9090, fixtures on :9091
 *   npm run pool:demo -- --port 9190 --fixture-port 9191
 */
import { parseArgs } from 'node:util';
import { startPoolHarness } from '../test/prometheus';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '9090' }, 'fixture-port': { type: 'string', default: '9091' } },
});
const port = Number(values.port);
const fixturePort = Number(values['fixture-port']);
if (!Number.isInteger(port) || !Number.isInteger(fixturePort)) {
  console.error('--port and --fixture-port must be port numbers');
  process.exit(2);
}

console.log('Backfilling 24 h of demo data and starting Prometheus…');
const harness = await startPoolHarness({ prometheusPort: port, fixturePort, historyHours: 24 });
console.log(`Prometheus (demo data) is on ${harness.url}. In another terminal:

  PROMETHEUS_URL=${harness.url} npm start

then open /pool. Ctrl-C stops Prometheus and the fixtures.`);

const stop = async () => {
  await harness.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
