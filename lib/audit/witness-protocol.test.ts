import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consistencyProof, EMPTY_EDGE, extendTree, leafHash, MemoryTiles, rootAt } from './merkle';
import { checkpointText, parseNote, signNote } from './note';
import {
  cosign,
  cosignerKey,
  cosignerVerifierKey,
  formatAddCheckpoint,
  formatSize,
  parseAddCheckpoint,
  parseCosignatureLines,
  parseCosignerKey,
  parseSize,
  verifyCosignature,
  WitnessProtocolError,
} from './witness-protocol';

const ORIGIN = 'staff-portal@int.arbitex.ai';
const log = crypto.generateKeyPairSync('ed25519');
const witness = crypto.generateKeyPairSync('ed25519');
const WITNESS = 'witness.example/w1';

async function tree(size: number) {
  const tiles = new MemoryTiles();
  tiles.apply(
    extendTree(
      EMPTY_EDGE,
      Array.from({ length: size }, (_, i) => leafHash(`entry ${i}`)),
    ).writes,
  );
  return tiles;
}

async function signedCheckpoint(size: number, tiles: MemoryTiles) {
  const text = checkpointText({ origin: ORIGIN, size, rootHash: await rootAt(size, tiles) });
  return { text, note: signNote(text, ORIGIN, log.privateKey) };
}

describe('cosignature/v1 (C2SP tlog-cosignature)', () => {
  it('signs "cosignature/v1", the time and the checkpoint text; the line is key ID ‖ u64 time ‖ signature', async () => {
    const { text } = await signedCheckpoint(5, await tree(5));
    const line = cosign(text, WITNESS, witness.privateKey, 1679315147);
    const match = /^\u2014 witness\.example\/w1 (\S+)\n$/.exec(line);
    expect(match).not.toBeNull();
    const bytes = Buffer.from(match![1]!, 'base64');
    expect(bytes).toHaveLength(4 + 8 + 64);
    // The key ID and the message, computed here from the spec's text rather than by the module.
    const raw = Buffer.from(witness.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const keyId = crypto
      .createHash('sha256')
      .update(`${WITNESS}\n`)
      .update(Buffer.of(0x04))
      .update(raw)
      .digest()
      .subarray(0, 4);
    expect(bytes.subarray(0, 4)).toEqual(keyId);
    expect(bytes.readBigUInt64BE(4)).toBe(1679315147n);
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${text}`);
    expect(crypto.verify(null, message, witness.publicKey, bytes.subarray(12))).toBe(true);
  });

  it('round trip: a witness’s verifier key reads back, and its cosignature verifies with the timestamp', async () => {
    const { text, note } = await signedCheckpoint(7, await tree(7));
    const vkey = cosignerVerifierKey(WITNESS, witness.publicKey);
    expect(vkey).toMatch(/^witness\.example\/w1\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}$/);
    const key = parseCosignerKey(vkey);
    expect(key.keyId).toEqual(cosignerKey(WITNESS, witness.publicKey).keyId);
    const line = cosign(text, WITNESS, witness.privateKey, 1_800_000_000);
    const [signature] = parseCosignatureLines(text, line);
    expect(verifyCosignature(text, signature!, key)).toEqual({ ok: true, timestamp: 1_800_000_000 });
    // Added to the log's note, it is one more signature line that a note parser keeps.
    expect(parseNote(note + line).signatures.map((s) => s.name)).toEqual([ORIGIN, WITNESS]);
  });

  it('refuses a changed checkpoint, a changed timestamp, a flipped bit, and ignores another witness’s line', async () => {
    const tiles = await tree(9);
    const { text } = await signedCheckpoint(9, tiles);
    const key = parseCosignerKey(cosignerVerifierKey(WITNESS, witness.publicKey));
    const [signature] = parseCosignatureLines(text, cosign(text, WITNESS, witness.privateKey, 1_800_000_000));

    const other = checkpointText({ origin: ORIGIN, size: 8, rootHash: await rootAt(8, tiles) });
    expect(verifyCosignature(other, signature!, key)).toMatchObject({ ok: false, reason: 'bad_signature' });

    const later = Buffer.from(signature!.signature);
    later.writeBigUInt64BE(1_800_000_001n, 0);
    expect(verifyCosignature(text, { ...signature!, signature: later }, key)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });

    const flipped = Buffer.from(signature!.signature);
    flipped[40]! ^= 1;
    expect(verifyCosignature(text, { ...signature!, signature: flipped }, key)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });

    expect(verifyCosignature(text, { ...signature!, signature: flipped.subarray(0, 71) }, key)).toMatchObject(
      {
        ok: false,
        reason: 'malformed',
      },
    );

    // The same key under another name has another key ID: not this witness's cosignature.
    const [renamed] = parseCosignatureLines(text, cosign(text, 'witness.example/w2', witness.privateKey, 1));
    expect(verifyCosignature(text, renamed!, key)).toMatchObject({ ok: false, reason: 'unknown_key' });
    // A log's own note signature (type 0x01) under the witness's name does not pass as a cosignature.
    const [asNote] = parseNote(signNote(text, WITNESS, witness.privateKey)).signatures;
    expect(verifyCosignature(text, asNote!, key)).toMatchObject({ ok: false, reason: 'unknown_key' });
  });

  it('refuses a verifier key of a note signer (type 0x01) as a witness key', () => {
    const vkey = cosignerVerifierKey(WITNESS, witness.publicKey);
    const asType1 = vkey.replace(/\+B/, '+A');
    expect(() => parseCosignerKey(asType1)).toThrow(/type 0x04/);
    expect(() => parseCosignerKey(vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(
      /ID does not match/,
    );
  });
});

describe('add-checkpoint requests (C2SP tlog-witness)', () => {
  it('round trip: old size, proof lines, an empty line, then the note', async () => {
    const tiles = await tree(20);
    const proof = await consistencyProof(13, 20, tiles);
    const { note } = await signedCheckpoint(20, tiles);
    const body = formatAddCheckpoint({ oldSize: 13, proof, note });
    expect(body).toBe(`old 13\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note}`);
    const parsed = parseAddCheckpoint(body);
    expect(parsed).toMatchObject({ oldSize: 13, note, checkpoint: { origin: ORIGIN, size: 20 } });
    expect(parsed.proof).toEqual(proof);
    // From size 0 the proof is empty: the old line is followed directly by the empty line.
    expect(formatAddCheckpoint({ oldSize: 0, proof: [], note })).toBe(`old 0\n\n${note}`);
    expect(parseAddCheckpoint(`old 0\n\n${note}`)).toMatchObject({ oldSize: 0, proof: [] });
  });

  it('refuses malformed bodies', async () => {
    const tiles = await tree(4);
    const { note } = await signedCheckpoint(4, tiles);
    const hash = leafHash('x').toString('base64');
    for (const bad of [
      note, // no old line
      `old 01\n\n${note}`,
      `old -1\n\n${note}`,
      `old 1 \n\n${note}`,
      `OLD 1\n\n${note}`,
      `old 1\n${hash.slice(0, -4)}\n\n${note}`, // a proof line that is not 32 bytes
      `old 1\n${hash}!\n\n${note}`,
      `old 1\n${`${hash}\n`.repeat(64)}\n${note}`, // 64 proof lines
      `old 1\n\n${note.replace('\n\n', '\n')}`, // the note lost its signature separator
      `old 1\n\nnot a checkpoint\n\n\u2014 ${ORIGIN} AAAAAAAA\n`,
      `old 1\n${hash}`, // no empty line
    ])
      expect(() => parseAddCheckpoint(bad), JSON.stringify(bad)).toThrow(WitnessProtocolError);
    expect(parseAddCheckpoint(`old 1\n${`${hash}\n`.repeat(63)}\n${note}`).proof).toHaveLength(63);
    expect(() => formatAddCheckpoint({ oldSize: 1, proof: Array(64).fill(leafHash('x')), note })).toThrow();
  });

  it('409 sizes and cosignature answers', async () => {
    expect(formatSize(20852014)).toBe('20852014\n');
    expect(parseSize('20852014\n')).toBe(20852014);
    for (const bad of ['', '12', '012\n', '1 2\n', '-1\n', '12\n\n']) expect(parseSize(bad), bad).toBeNull();
    const { text } = await signedCheckpoint(3, await tree(3));
    const lines =
      cosign(text, WITNESS, witness.privateKey, 5) + cosign(text, 'other.example/w', log.privateKey, 6);
    expect(parseCosignatureLines(text, lines).map((s) => s.name)).toEqual([WITNESS, 'other.example/w']);
    for (const bad of ['', 'ok\n', `\n${lines}`, lines.replace('\n', '\n\n'), lines.slice(0, -1)])
      expect(() => parseCosignatureLines(text, bad), JSON.stringify(bad)).toThrow(WitnessProtocolError);
  });
});
