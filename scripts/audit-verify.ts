/**
 * `npm run audit:verify`: verifies the audit chain.
 *
 * - Against the database (DATABASE_URL, or the embedded one): `[-- --from N --to N --workers N]`. The run is
 *   recorded and audited like one started from /audit/verify. On PostgreSQL, worker threads verify chunks
 *   in parallel.
 * - Offline, an NDJSON export, with no database:
 *   `-- --file export.ndjson --keys hmac-keys.json --checkpoint-pubkey checkpoint-keys.pem|.json`. With the
 *   /audit/checkpoints download as --checkpoint-pubkey, the export is also held to every checkpoint in it.
 *
 * - A Merkle proof (the "Inclusion proof" download of /audit/<seq>, or an answer of /api/audit/proof/*),
 *   with no database and no HMAC key: `-- --proof proof.json --checkpoint-pubkey KEY`, KEY a PEM public
 *   key, a signed-note verifier key, or the /audit/checkpoints download. The keys inside the proof file are
 *   never trusted. Each `--witness-key VKEY` (a witness's verifier key, as `npm run audit:witness -- vkey`
 *   prints it) also requires that witness's valid cosignature on the checkpoint.
 *
 * Progress goes to stderr (a bar on a terminal, plain lines otherwise); the verdict to stdout (`--json`
 * for JSON). Exit status: 0 valid, 1 broken (with a report), 2 unusable input or another error.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { DatabaseInUseError, openDatabase, pgliteDir } from '@/db/client';
import { type HmacKeyRing, hmacKeyRing, parseKeyRing } from '@/lib/audit/keys';
import { syncKeyRings } from '@/lib/audit/key-state';
import { CheckpointsDocument, type CheckpointRecord } from '@/lib/audit/export-format';
import { type NoteVerifier, noteVerifier, parseVerifierKey } from '@/lib/audit/note';
import {
  CONSISTENCY_PROOF_TYPE,
  checkConsistencyProof,
  checkCosignatures,
  checkInclusionProof,
  ConsistencyProof,
  INCLUSION_PROOF_TYPE,
  InclusionProof,
} from '@/lib/audit/proof-format';
import { verifyExportFile } from '@/lib/audit/verify-file';
import { parseCosignerKey } from '@/lib/audit/witness-protocol';
import { verifyChain } from '@/lib/audit/verify';
import { verifyChainParallel } from '@/lib/audit/verify-parallel';
import { tsxWorker } from '@/lib/audit/verify-worker-tsx';
import type { VerifyResult } from '@/lib/audit/verify-core';
import { config } from '@/lib/config';
import { AppError } from '@/lib/errors';
import { createRun, executeRun, type RunVerdict } from '@/lib/services/audit/verify';
import { systemCtx } from '@/lib/services/staff/system';

const USAGE = `usage: npm run audit:verify [-- [--from N] [--to N] [--workers N] [--json]]
       npm run audit:verify -- --file export.ndjson --keys KEYS.json [--checkpoint-pubkey PUB.pem|.json] [--chain-id ID] [--json]
       npm run audit:verify -- --proof PROOF.json --checkpoint-pubkey PUB.pem|.json|.vkey [--witness-key VKEY ...] [--chain-id ID] [--json]`;

class UsageError extends Error {}

function options() {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      workers: { type: 'string' },
      file: { type: 'string' },
      proof: { type: 'string' },
      keys: { type: 'string' },
      'checkpoint-pubkey': { type: 'string' },
      'witness-key': { type: 'string', multiple: true },
      'chain-id': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const count = (flag: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    if (!/^[0-9]{1,15}$/.test(v) || Number(v) < min)
      throw new UsageError(`--${flag} takes a whole number >= ${min}`);
    return Number(v);
  };
  if (values.proof && (values.file || values.keys || values.from || values.to || values.workers))
    throw new UsageError(
      '--proof checks a proof file on its own, with --checkpoint-pubkey only (no database, no HMAC key)',
    );
  if (values.proof && !values['checkpoint-pubkey'])
    throw new UsageError(
      '--proof needs --checkpoint-pubkey: the key you trust, not one taken from the proof file itself',
    );
  if (values['witness-key'] && !values.proof)
    throw new UsageError(
      '--witness-key goes with --proof: it requires that witness’s cosignature on the checkpoint',
    );
  if (values.file && (values.from || values.to || values.workers))
    throw new UsageError(
      '--from, --to and --workers are for the database; --file verifies an export as it is',
    );
  if (values.file && !values.keys)
    throw new UsageError('--file needs --keys, the HMAC key ring the entries were MACed with');
  if (!values.file && !values.proof && (values.keys || values['checkpoint-pubkey']))
    throw new UsageError(
      '--keys and --checkpoint-pubkey go with --file; the database mode uses the portal’s secrets',
    );
  return {
    ...values,
    from: count('from', values.from, 1),
    to: count('to', values.to, 1),
    workers: count('workers', values.workers, 0),
  };
}

/** A progress bar on a terminal; elsewhere a plain line every 5 seconds. */
function progress(total: number | null) {
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    update(done: number) {
      const now = performance.now();
      if (now - last < (tty ? 100 : 5000)) return;
      last = now;
      const rate = done / Math.max(0.001, (now - started) / 1000);
      const eta = total && rate > 0 ? Math.max(0, (total - done) / rate) : null;
      const share = total ? Math.min(1, done / total) : null;
      const text = `${done.toLocaleString('en')}${total ? ` / ${total.toLocaleString('en')}` : ''} entries · ${Math.round(rate).toLocaleString('en')}/s${eta !== null ? ` · ${eta.toFixed(0)} s left` : ''}`;
      if (tty) {
        const width = 30;
        const bar =
          share === null
            ? ''
            : `[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ${(share * 100).toFixed(0).padStart(3)}% `;
        process.stderr.write(`\r${bar}${text}\x1b[K`);
      } else {
        process.stderr.write(`verified ${text}\n`);
      }
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

function print(
  verdict: RunVerdict | VerifyResult,
  what: string,
  json: boolean,
  extra: Record<string, unknown> = {},
) {
  if (json) {
    console.log(JSON.stringify({ ...verdict, ...extra }));
    return;
  }
  if ('error' in verdict) {
    console.log(`ERROR: ${what} could not be verified: ${verdict.error}`);
    return;
  }
  const cp = verdict.checkpoint
    ? `the checkpoint of seq ${verdict.checkpoint.seq} signed at ${verdict.checkpoint.signed_at} (key ${verdict.checkpoint.key_id})`
    : 'no signed checkpoint';
  if (verdict.ok) {
    console.log(
      `VALID: ${what}: ${verdict.checked.toLocaleString('en')} entries verified, up to seq ${verdict.headSeq}; matches ${cp}.`,
    );
    return;
  }
  console.log(`INVALID: ${what}`);
  console.log(`  first broken seq: ${verdict.firstBadSeq}`);
  console.log(`  kind:             ${verdict.kind}`);
  console.log(`  detail:           ${verdict.detail}`);
  console.log(`  verified before:  ${verdict.checked.toLocaleString('en')} entries`);
  console.log(`  checkpoints:      newest that matches: ${cp}`);
  for (const [k, v] of Object.entries(extra)) console.log(`  ${`${k}:`.padEnd(18)}${String(v)}`);
}

/** HMAC keys for --keys: the audit-hmac-keys format; `active` may be left out. */
function readKeyFile(file: string): HmacKeyRing {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { active?: string; keys?: Record<string, string> };
  const first = Object.keys(raw.keys ?? {})[0];
  return parseKeyRing(JSON.stringify({ active: raw.active ?? first, keys: raw.keys ?? {} }));
}

/**
 * Checkpoint public keys for --checkpoint-pubkey: a PEM file (its key is taken for any key id), the JSON
 * download of /audit/checkpoints, or a JSON object of key id to PEM. The download's checkpoints are kept
 * ones: the export is held to each of them (a restore of an older backup shows as truncated or rolled back).
 */
function readCheckpointFile(file: string | undefined): {
  publicKeys: ReadonlyMap<string, crypto.KeyObject>;
  kept: CheckpointRecord[];
} {
  if (!file) return { publicKeys: new Map(), kept: [] };
  const text = fs.readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('-----BEGIN')) {
    const key = crypto.createPublicKey(text);
    // One key, whatever id the checkpoints give it.
    const publicKeys = new (class extends Map<string, crypto.KeyObject> {
      override get() {
        return key;
      }
    })();
    publicKeys.set('(pem)', key); // so that the export's proof line, which has no key id, finds it too
    return { publicKeys, kept: [] };
  }
  const raw = JSON.parse(text) as Record<string, unknown>;
  const pem = (pems: Record<string, unknown>) =>
    new Map(Object.entries(pems).map(([id, p]) => [id, crypto.createPublicKey(String(p))]));
  if (raw.type !== 'arbitex.audit.checkpoints') return { publicKeys: pem(raw), kept: [] };
  const document = CheckpointsDocument.safeParse(raw);
  if (!document.success)
    throw new UsageError(
      `${file} is not a valid /audit/checkpoints download: ${document.error.issues[0]?.path.join('.')} ${document.error.issues[0]?.message}`,
    );
  return { publicKeys: pem(document.data.public_keys), kept: document.data.checkpoints };
}

async function offline(opts: ReturnType<typeof options>): Promise<number> {
  const file = opts.file!;
  if (!fs.existsSync(file)) throw new UsageError(`${file} does not exist`);
  const size = fs.statSync(file).size;
  const bar = progress(null);
  const { publicKeys, kept } = readCheckpointFile(opts['checkpoint-pubkey']);
  const result = await verifyExportFile(file, {
    keys: readKeyFile(opts.keys!),
    publicKeys,
    kept,
    chainId: opts['chain-id'],
    onProgress: (checked, bytes) =>
      bar.update(Math.min(checked, Math.round((checked * size) / Math.max(bytes, 1)))),
  });
  bar.end();
  const header = result.header;
  print(result, file, opts.json, {
    export:
      header === null
        ? 'no header'
        : `${header.contiguous ? 'contiguous' : 'filtered'}, seq ${header.from_seq ?? 1}-${header.to_seq ?? 'head'}, exported ${header.exported_at}`,
    entries: result.entries,
    'checkpoint lines': result.checkpoints,
    'kept checkpoints': kept.length,
    'last entry proof':
      result.proof === 'checked'
        ? `in the Merkle tree of ${result.proofTreeSize} entries, signed (note checkpoint)`
        : 'none (an export from before the Merkle tree)',
  });
  if (!opts.json && result.ok && result.proof === 'checked')
    console.log(
      `The last entry's Merkle inclusion proof holds against the signed checkpoint of ${result.proofTreeSize} entries.`,
    );
  if (!opts.json && result.keyContinuity === 'consecutive_only')
    console.log(
      'NOTE: a filtered export. Key continuity (each entry MACed with the key in force at its seq) was checked only between entries whose seqs meet: an entry MACed with a retired key elsewhere is not caught. Verify a contiguous export or the database to check it everywhere.',
    );
  return result.ok ? 0 : 1;
}

/**
 * The keys to check note checkpoints with, from --checkpoint-pubkey: a PEM public key (its name is the
 * chain id), a signed-note verifier key (`name+id+key`, one a line), the /audit/checkpoints download
 * (public_keys and verifier_keys), or a JSON object of key id to PEM.
 */
function readNoteVerifiers(file: string, chainId: string): NoteVerifier[] {
  const text = fs.readFileSync(file, 'utf8').trim();
  if (text.startsWith('-----BEGIN')) return [noteVerifier(chainId, crypto.createPublicKey(text))];
  if (!text.startsWith('{'))
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => parseVerifierKey(line));
  const raw = JSON.parse(text) as Record<string, unknown>;
  const pems = (raw.type === 'arbitex.audit.checkpoints' ? raw.public_keys : raw) as Record<string, unknown>;
  const vkeys = raw.type === 'arbitex.audit.checkpoints' ? (raw.verifier_keys ?? {}) : {};
  return [
    ...Object.values(pems ?? {}).map((pem) => noteVerifier(chainId, crypto.createPublicKey(String(pem)))),
    ...Object.values(vkeys as Record<string, unknown>).map((v) => parseVerifierKey(String(v))),
  ];
}

/** --proof: an inclusion or consistency proof checked against the trusted checkpoint keys. */
function proofMode(opts: ReturnType<typeof options>): number {
  const file = opts.proof!;
  if (!fs.existsSync(file)) throw new UsageError(`${file} does not exist`);
  let raw: { type?: unknown; chain_id?: unknown };
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof raw;
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
  const schema =
    raw.type === INCLUSION_PROOF_TYPE
      ? InclusionProof
      : raw.type === CONSISTENCY_PROOF_TYPE
        ? ConsistencyProof
        : null;
  if (!schema)
    throw new UsageError(
      `${file} is not a proof (type ${INCLUSION_PROOF_TYPE} or ${CONSISTENCY_PROOF_TYPE})`,
    );
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${file} is not a valid proof: ${issue?.path.join('.')} ${issue?.message}`);
  }
  const doc = parsed.data;
  const chainId = opts['chain-id'] ?? doc.chain_id;
  if (chainId !== doc.chain_id) {
    report(false, `the proof is for the chain "${doc.chain_id}", not "${chainId}"`, opts.json);
    return 1;
  }
  let verifiers: NoteVerifier[];
  try {
    verifiers = readNoteVerifiers(opts['checkpoint-pubkey']!, chainId);
  } catch (err) {
    throw new UsageError(
      `${opts['checkpoint-pubkey']} holds no usable checkpoint key: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const witnesses = (opts['witness-key'] ?? []).map((vkey) => {
    try {
      return parseCosignerKey(vkey);
    } catch (err) {
      throw new UsageError(`--witness-key ${vkey}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const verdict =
    doc.type === INCLUSION_PROOF_TYPE
      ? checkInclusionProof(doc, verifiers)
      : checkConsistencyProof(doc, verifiers);
  if (!verdict.ok || witnesses.length === 0) {
    report(verdict.ok, verdict.ok ? verdict.detail : verdict.reason, opts.json, file);
    return verdict.ok ? 0 : 1;
  }
  // A consistency proof ends at its newer checkpoint: the one a witness would have cosigned.
  const note = doc.type === INCLUSION_PROOF_TYPE ? doc.checkpoint! : doc.to_checkpoint!;
  const cosigned = checkCosignatures(note, witnesses);
  if (!cosigned.ok) {
    report(false, cosigned.reason, opts.json, file);
    return 1;
  }
  const by = cosigned.cosigned
    .map((c) => `${c.name} (${new Date(c.timestamp * 1000).toISOString()})`)
    .join(', ');
  report(true, `${verdict.detail}; cosigned by ${by}`, opts.json, file);
  return 0;
}

function report(ok: boolean, text: string, json: boolean, file = '') {
  if (json) console.log(JSON.stringify({ ok, [ok ? 'detail' : 'reason']: text }));
  else console.log(ok ? `VALID: ${file}: ${text}.` : `INVALID: ${file ? `${file}: ` : ''}${text}.`);
}

async function database(opts: ReturnType<typeof options>): Promise<number> {
  const c = config();
  let db;
  try {
    db = await openDatabase(c.DATABASE_URL ? { url: c.DATABASE_URL, max: 4 } : { dataDir: pgliteDir() });
  } catch (err) {
    if (err instanceof DatabaseInUseError) throw new UsageError(err.message);
    throw err;
  }
  try {
    await syncKeyRings(db.db);
    const ctx = systemCtx(db.db, 'audit:verify');
    const run = await createRun(ctx, { fromSeq: opts.from, toSeq: opts.to }, 'cli');
    const total = Math.max(0, run.toSeq - run.fromSeq + 1);
    console.error(`Verifying seq ${run.fromSeq}-${run.toSeq} (run ${run.id})…`);
    const bar = progress(total);
    const workers = opts.workers ?? undefined;
    const parallel = db.kind === 'postgres' && c.DATABASE_URL && workers !== 0;
    const verdict = await executeRun(
      ctx,
      run,
      parallel
        ? (o) =>
            verifyChainParallel(db.db, {
              ...o,
              url: c.DATABASE_URL!,
              startWorker: tsxWorker,
              workers,
              keys: hmacKeyRing(),
            })
        : (o) => verifyChain(db.db, o),
      (checked) => bar.update(checked),
    );
    bar.end();
    print(verdict, `the audit chain (seq ${run.fromSeq}-${run.toSeq})`, opts.json, { run: run.id });
    return verdict.ok ? 0 : 'error' in verdict ? 2 : 1;
  } finally {
    await db.close();
  }
}

try {
  const opts = options();
  process.exitCode = opts.proof ? proofMode(opts) : await (opts.file ? offline(opts) : database(opts));
} catch (err) {
  if (err instanceof UsageError || (err instanceof TypeError && 'code' in err)) {
    console.error(`${err.message}\n${USAGE}`);
  } else if (err instanceof AppError) {
    console.error(err.message);
  } else {
    console.error(err);
  }
  process.exitCode = 2;
}
