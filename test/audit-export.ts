import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChainEntry } from '@/lib/audit/chain';
import {
  CHECKPOINT_LINE_TYPE,
  type CheckpointRecord,
  EXPORT_HEADER_TYPE,
  type ExportHeader,
} from '@/lib/audit/export-format';

/**
 * An NDJSON export in the format of lib/audit/export-format.ts, as the exporter writes it: the header,
 * one event per entry with the chained entry in `unmapped.audit` (a minimal OCSF wrapper here; the
 * verifier reads only the entry), then the checkpoints.
 */
export function exportText(opts: {
  entries: readonly ChainEntry[];
  checkpoints?: readonly CheckpointRecord[];
  contiguous?: boolean;
  fromSeq?: number | null;
  toSeq?: number | null;
}): string {
  const header: ExportHeader = {
    type: EXPORT_HEADER_TYPE,
    version: 1,
    exported_at: new Date().toISOString(),
    contiguous: opts.contiguous ?? true,
    from_seq: opts.fromSeq ?? null,
    to_seq: opts.toSeq ?? null,
    filters: {},
  };
  const events = opts.entries.map((entry) => ({
    class_uid: 3004,
    activity_id: 3,
    type_uid: 300403,
    time: Date.parse(entry.occurred_at),
    metadata: { version: '1.8.0', uid: entry.id },
    unmapped: { audit: entry },
  }));
  const checkpoints = (opts.checkpoints ?? []).map((c) => ({ type: CHECKPOINT_LINE_TYPE, ...c }));
  return [header, ...events, ...checkpoints].map((line) => JSON.stringify(line)).join('\n') + '\n';
}

/** Writes an export to a new temporary file and returns its path. */
export function writeExport(opts: Parameters<typeof exportText>[0]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-export-'));
  const file = path.join(dir, 'export.ndjson');
  fs.writeFileSync(file, exportText(opts));
  return file;
}
