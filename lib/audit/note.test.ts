import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, leafHash } from './merkle';
import {
  addNoteSignature,
  checkpointText,
  ed25519KeyId,
  noteVerifier,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  signNote,
  verifierKey,
  verifyNote,
} from './note';

const seedKey = (seed: Buffer) =>
  crypto.createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });

// The example of golang.org/x/mod/sumdb/note (its package documentation and tests): an independent
// implementation's key, text and signature.
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_SEED = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

describe('signed notes (C2SP signed-note)', () => {
  it('sign and verify exactly as Go’s sumdb/note does', () => {
    const key = seedKey(GO_SEED);
    expect(verifierKey('PeterNeumann', key)).toBe(GO_VKEY);
    expect(ed25519KeyId('PeterNeumann', key).toString('hex')).toBe('c74f20a3');
    expect(signNote(GO_TEXT, 'PeterNeumann', key)).toBe(GO_NOTE);
    const verdict = verifyNote(GO_NOTE, [parseVerifierKey(GO_VKEY)]);
    expect(verdict).toMatchObject({ ok: true, text: GO_TEXT, verifiedBy: ['PeterNeumann'] });
  });

  it('refuse a changed text, a changed signature, and a note no known key signed', () => {
    const v = parseVerifierKey(GO_VKEY);
    expect(verifyNote(GO_NOTE.replace('answer', 'Answer'), [v])).toMatchObject({ ok: false });
    const sig = GO_NOTE.split(' ').at(-1)!;
    const flipped = Buffer.from(sig.trim(), 'base64');
    flipped[10]! ^= 1;
    expect(verifyNote(GO_NOTE.replace(sig.trim(), flipped.toString('base64')), [v])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not verify/),
    });
    const other = noteVerifier('PeterNeumann', crypto.generateKeyPairSync('ed25519').publicKey);
    expect(verifyNote(GO_NOTE, [other])).toEqual({ ok: false, reason: 'no signature by a known key' });
    // Same key, another name: another key ID, so not a known key either.
    expect(verifyNote(GO_NOTE, [noteVerifier('Peter', seedKey(GO_SEED))])).toMatchObject({ ok: false });
  });

  it('keep and ignore signatures of unknown keys and of other types, and verify each known one', () => {
    const log = crypto.generateKeyPairSync('ed25519');
    const witness = crypto.generateKeyPairSync('ed25519');
    const text = checkpointText({ origin: 'example.com/log', size: 5, rootHash: leafHash('x') });
    let note = signNote(text, 'example.com/log', log.privateKey);
    note = addNoteSignature(note, 'witness.example/w1', witness.privateKey);
    // A cosignature/v1 line (type 0x04: key ID, 8-byte timestamp, signature) this code does not check.
    const cosig = Buffer.concat([crypto.randomBytes(4), Buffer.alloc(8), crypto.randomBytes(64)]);
    note += `\u2014 witness.example/w2 ${cosig.toString('base64')}\n`;
    expect(parseNote(note).signatures.map((s) => s.name)).toEqual([
      'example.com/log',
      'witness.example/w1',
      'witness.example/w2',
    ]);
    const both = [
      noteVerifier('example.com/log', log.publicKey),
      noteVerifier('witness.example/w1', witness.publicKey),
    ];
    expect(verifyNote(note, both)).toMatchObject({
      ok: true,
      verifiedBy: ['example.com/log', 'witness.example/w1'],
    });
    expect(verifyNote(note, [both[0]!])).toMatchObject({ ok: true, verifiedBy: ['example.com/log'] });
    // A known key whose signature fails rejects the whole note, even when another known key signed.
    const forged = note.replace(
      /(\u2014 witness\.example\/w1 )(\S+)/,
      (_, prefix: string, sig: string) =>
        prefix +
        Buffer.concat([Buffer.from(sig, 'base64').subarray(0, 4), Buffer.alloc(64)]).toString('base64'),
    );
    expect(verifyNote(forged, both)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/witness\.example\/w1/),
    });
  });

  it('refuse malformed notes', () => {
    const v = [parseVerifierKey(GO_VKEY)];
    for (const bad of [
      GO_TEXT, // no signatures
      GO_NOTE.slice(0, -1), // no final newline
      GO_NOTE.replace('\u2014', '--'),
      GO_NOTE.replace('PeterNeumann x08', 'Peter+Neumann x08'),
      GO_NOTE.replace('x08go', 'x08g!'),
      GO_NOTE.replace('problem,', 'problem,\r'),
      `${GO_NOTE}\u2014 PeterNeumann AAAA\n`, // a signature of fewer than 5 bytes
    ])
      expect(verifyNote(bad, v).ok, JSON.stringify(bad)).toBe(false);
  });

  it('verifier keys whose base64 holds a plus sign parse (transparency-dev/formats test key)', () => {
    const plus = parseVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6');
    expect(plus.name).toBe('TEST');
    expect(verifierKey('TEST', plus.publicKey)).toBe(
      'TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6',
    );
  });

  it('verifier keys: refuse a wrong key ID or a key of another type', () => {
    expect(() => parseVerifierKey(GO_VKEY.replace('c74f20a3', 'c74f20a4'))).toThrow(/ID does not match/);
    expect(() => parseVerifierKey(GO_VKEY.replace('+ARpc', '+AhpC'))).toThrow();
    expect(() => parseVerifierKey('PeterNeumann+c74f20a3')).toThrow();
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  it('are origin, size and base64 root, one a line, and parse back', () => {
    const text = checkpointText({
      origin: 'staff-portal@int.arbitex.ai',
      size: 1048576,
      rootHash: EMPTY_ROOT,
    });
    expect(text).toBe('staff-portal@int.arbitex.ai\n1048576\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n');
    expect(parseCheckpoint(text)).toEqual({
      origin: 'staff-portal@int.arbitex.ai',
      size: 1048576,
      rootHash: EMPTY_ROOT,
      extensions: [],
    });
    const key = crypto.generateKeyPairSync('ed25519');
    const note = signNote(text, 'staff-portal@int.arbitex.ai', key.privateKey);
    expect(openCheckpoint(note, [noteVerifier('staff-portal@int.arbitex.ai', key.publicKey)])).toMatchObject({
      ok: true,
      checkpoint: { size: 1048576, origin: 'staff-portal@int.arbitex.ai' },
    });
  });

  it('refuse a size or root that is not one', () => {
    for (const bad of [
      'o\n01\nAAAA\n',
      'o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n',
      'o\n1\nAAAA\n',
      'o\n1\n',
    ])
      expect(() => parseCheckpoint(bad), bad).toThrow();
    expect(() => checkpointText({ origin: 'has space', size: 1, rootHash: EMPTY_ROOT })).toThrow();
  });
});

describe('verifier keys whose base64 has plus signs', () => {
  it('read back: only the first two plus signs separate the parts', () => {
    // About half of all Ed25519 keys have a "+" in their base64; take the first seed that does.
    let seed = 0;
    let vkey = '';
    for (; seed < 256; seed++) {
      vkey = verifierKey('example.com/log', seedKey(Buffer.alloc(32, seed)));
      if (vkey.split('+').length > 3) break;
    }
    expect(vkey.split('+').length).toBeGreaterThan(3);
    const parsed = parseVerifierKey(vkey);
    expect(parsed.keyId).toEqual(ed25519KeyId('example.com/log', seedKey(Buffer.alloc(32, seed))));
    expect(() => parseVerifierKey(vkey.replace('example.com/log+', 'example.com/log++'))).toThrow();
  });
});
