/**
 * The measured half of bench:export: exports the whole chain of DATABASE_URL to nowhere, the way the
 * route handler streams it, and prints one JSON line with the entries, bytes, seconds and peak RSS.
 */
import { openDatabase } from '@/db/client';
import { exportStream, planExport } from '@/lib/audit/export';

const database = await openDatabase({ url: process.env.DATABASE_URL!, max: 2 });
const t0 = performance.now();
const plan = await planExport(database.db, {}, {});
const reader = exportStream(database.db, plan).getReader();
let bytes = 0;
let lines = 0;
let events = 0;
const decoder = new TextDecoder();
let peak = process.memoryUsage().rss;
let lastReport = 0;
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  bytes += value.byteLength;
  // Each chunk is whole lines: the header, a batch of events, or the checkpoints.
  for (const line of decoder.decode(value).split('\n')) {
    if (!line) continue;
    lines++;
    if (line.startsWith('{"class_uid":')) events++;
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  if (lines - lastReport >= 100_000) {
    lastReport = lines;
    console.error(`  exported ${lines} lines, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  }
}
const seconds = (performance.now() - t0) / 1000;
await database.close();
// maxRSS (kB) is the kernel's peak for the process, including moments between the samples above.
const maxRss = Math.max(peak, process.resourceUsage().maxRSS * 1024);
console.log(
  JSON.stringify({ entries: events, bytes, seconds, max_rss_mb: Math.round(maxRss / (1024 * 1024)) }),
);
