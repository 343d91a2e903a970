import { type Config, config, ConfigError } from '@/lib/config';
import { NoteFormatError, parseCheckpoint, parseNote } from './note';
import {
  type CosignerKey,
  cosignatureLine,
  formatAddCheckpoint,
  parseCosignatureLines,
  parseCosignerKey,
  parseSize,
  SIZE_CONTENT_TYPE,
  verifyCosignature,
  WitnessProtocolError,
} from './witness-protocol';

/**
 * The portal's side of the witnesses (docs/AUDIT.md, "Witnesses"): it sends a signed checkpoint note with a
 * consistency proof to each configured witness (C2SP tlog-witness add-checkpoint) and checks the
 * cosignature each returns against that witness's configured key.
 */

export interface Witness {
  /** The witness's key name, from its verifier key: what /audit/checkpoints shows. */
  name: string;
  /** Its submission prefix: the request goes to `<url>/add-checkpoint`. */
  url: string;
  /** Its verifier key as configured. */
  vkey: string;
  key: CosignerKey;
}

/** The witnesses of AUDIT_WITNESS_URLS and AUDIT_WITNESS_KEYS, paired by position (lib/config.ts checks both). */
export function configuredWitnesses(
  c: Pick<Config, 'AUDIT_WITNESS_URLS' | 'AUDIT_WITNESS_KEYS'> = config(),
): Witness[] {
  return c.AUDIT_WITNESS_URLS.map((url, i) => {
    const vkey = c.AUDIT_WITNESS_KEYS[i]!;
    try {
      const key = parseCosignerKey(vkey);
      return { name: key.name, url, vkey, key };
    } catch (err) {
      if (err instanceof NoteFormatError)
        throw new ConfigError([`AUDIT_WITNESS_KEYS: ${vkey}: ${err.message}`]);
      throw err;
    }
  });
}

interface About {
  witness: string;
  url: string;
}

export type WitnessResult =
  | (About & {
      outcome: 'cosigned';
      /** The cosignature line, to append to the note: `— <name> <base64>\n`. */
      line: string;
      /** When the witness cosigned, POSIX seconds, as it signed it. */
      timestamp: number;
      /** The old size the witness took (after a retry, the size it reported). */
      oldSize: number;
    })
  | (About & {
      outcome: 'refused';
      status: number;
      reason: string;
      /** The size the witness last cosigned, when it said (409). */
      witnessSize?: number;
    })
  /** No answer within the timeout, a connection failure, or a 5xx. */
  | (About & { outcome: 'unreachable'; reason: string; status?: number })
  /** A 200 without a valid cosignature by the configured key. */
  | (About & { outcome: 'invalid'; reason: string });

export interface CosignOptions {
  /** The consistency proof from `size` to the checkpoint's size, for a witness that reports another size. */
  proofFrom: (size: number) => Promise<Buffer[]>;
  witnesses?: readonly Witness[];
  timeoutMs?: number;
  /** POSIX seconds: cosignatures more than MAX_CLOCK_SKEW_S after it are refused. */
  now?: () => number;
}

/** The most a witness's answer may hold: many cosignature lines, each about 120 bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;
export const MAX_CLOCK_SKEW_S = 600;

/**
 * Sends `note` (a checkpoint signed as a C2SP signed note) with the consistency proof from `oldSize` to every
 * witness at once, and returns one result per witness, in the order given. A witness that answers 409 with
 * another size is asked once more, from that size (with `proofFrom`), unless that size is larger than the
 * checkpoint's: then it has cosigned a larger tree, and the chain was rolled back or forked.
 */
export async function requestCosignatures(
  note: string,
  oldSize: number,
  proof: readonly Buffer[],
  options: CosignOptions,
): Promise<WitnessResult[]> {
  const text = parseNote(note).text;
  const checkpoint = parseCheckpoint(text);
  const witnesses = options.witnesses ?? configuredWitnesses();
  const timeoutMs = options.timeoutMs ?? config().AUDIT_WITNESS_TIMEOUT_MS;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));

  const ask = async (
    w: Witness,
    old: number,
    oldProof: readonly Buffer[],
    retry: boolean,
  ): Promise<WitnessResult> => {
    const about = { witness: w.name, url: w.url };
    const answer = await post(
      `${w.url}/add-checkpoint`,
      formatAddCheckpoint({ oldSize: old, proof: oldProof, note }),
      timeoutMs,
    );
    if (!answer.ok) return { ...about, outcome: 'unreachable', reason: answer.reason };
    const { status, contentType, body } = answer;
    if (status === 200) return cosigned(w, text, body, old, now());
    if (status === 409 && contentType?.split(';')[0]?.trim() === SIZE_CONTENT_TYPE) {
      const size = parseSize(body);
      if (size === null) return { ...about, outcome: 'refused', status, reason: 'a 409 without a tree size' };
      if (size > checkpoint.size)
        return {
          ...about,
          outcome: 'refused',
          status,
          witnessSize: size,
          reason: `the witness has cosigned a larger tree (${size}) than this checkpoint (${checkpoint.size}): the chain was rolled back or forked`,
        };
      if (retry || size === old)
        return {
          ...about,
          outcome: 'refused',
          status,
          witnessSize: size,
          reason: `a conflict again at size ${size}`,
        };
      let fromSize: Buffer[];
      try {
        fromSize = await options.proofFrom(size);
      } catch (err) {
        return {
          ...about,
          outcome: 'refused',
          status,
          witnessSize: size,
          reason: `no consistency proof from size ${size}: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
      return ask(w, size, fromSize, true);
    }
    if (status >= 500)
      return { ...about, outcome: 'unreachable', status, reason: `answered ${status}: ${firstLine(body)}` };
    return { ...about, outcome: 'refused', status, reason: firstLine(body) || `answered ${status}` };
  };

  return Promise.all(witnesses.map((w) => ask(w, oldSize, proof, false)));
}

/** The cosignature by `w` among the lines of a 200 answer, verified; any line by its key that fails counts. */
function cosigned(w: Witness, text: string, body: string, oldSize: number, now: number): WitnessResult {
  const about = { witness: w.name, url: w.url };
  let lines;
  try {
    lines = parseCosignatureLines(text, body);
  } catch (err) {
    if (err instanceof WitnessProtocolError) return { ...about, outcome: 'invalid', reason: err.message };
    throw err;
  }
  let found: WitnessResult | null = null;
  for (const signature of lines) {
    const verdict = verifyCosignature(text, signature, w.key);
    if (!verdict.ok && verdict.reason === 'unknown_key') continue;
    if (!verdict.ok) return { ...about, outcome: 'invalid', reason: verdict.detail };
    if (verdict.timestamp > now + MAX_CLOCK_SKEW_S)
      return {
        ...about,
        outcome: 'invalid',
        reason: `a cosignature dated ${verdict.timestamp - now} s in the future`,
      };
    found ??= {
      ...about,
      outcome: 'cosigned',
      line: cosignatureLine(signature),
      timestamp: verdict.timestamp,
      oldSize,
    };
  }
  return found ?? { ...about, outcome: 'invalid', reason: `no cosignature by ${w.vkey}` };
}

type Answer =
  { ok: true; status: number; contentType: string | null; body: string } | { ok: false; reason: string };

async function post(url: string, body: string, timeoutMs: number): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await readLimited(res);
    if (text === null) return { ok: false, reason: `an answer larger than ${MAX_ANSWER_BYTES} bytes` };
    return { ok: true, status: res.status, contentType: res.headers.get('content-type'), body: text };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
      return { ok: false, reason: `no answer within ${timeoutMs} ms` };
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { ok: false, reason: `${err instanceof Error ? err.message : String(err)}${cause}` };
  }
}

async function readLimited(res: Response): Promise<string | null> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > MAX_ANSWER_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function firstLine(body: string): string {
  return (body.split('\n')[0] ?? '').slice(0, 200);
}
