// Checks an "Inclusion proof" download of /audit/<seq> with node:crypto alone, as docs/AUDIT.md explains:
//   node scripts/check-proof-by-hand.mjs proof.json checkpoint-key.pem
// Trust only the key file you were given, never the keys inside the proof file.
import crypto from 'node:crypto';
import fs from 'node:fs';

const [proofFile, keyFile] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(proofFile, 'utf8'));
const key = crypto.createPublicKey(fs.readFileSync(keyFile));
const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const fail = (why) => (console.log(`INVALID: ${why}`), process.exit(1));

// 1. The leaf: SHA-256(0x00 ‖ RFC 8785 JSON of the entry). RFC 8785 for these values: keys sorted, no spaces.
const jcs = (v) =>
  v === null || typeof v !== 'object'
    ? JSON.stringify(v)
    : Array.isArray(v)
      ? `[${v.map(jcs).join(',')}]`
      : `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`)
          .join(',')}}`;
const leaf = sha256(Buffer.of(0), Buffer.from(jcs(doc.entry)));
if (leaf.toString('base64') !== doc.leaf_hash) fail('the leaf hash is not the entry’s');

// 2. The checkpoint: a signed note. Its text ends at the last blank line; a signature line is
//    "— <name> base64(4-byte key ID ‖ Ed25519 signature over the text)".
const note = doc.checkpoint;
const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
const signed = note
  .slice(text.length + 1)
  .split('\n')
  .filter((line) => line.startsWith(`\u2014 ${doc.chain_id} `))
  .some((line) =>
    crypto.verify(null, Buffer.from(text), key, Buffer.from(line.split(' ')[2], 'base64').subarray(4)),
  );
if (!signed) fail('the checkpoint is not signed by this key');
const [origin, size, root] = text.split('\n');
if (origin !== doc.chain_id || Number(size) !== doc.tree_size)
  fail('the checkpoint is of another chain or size');

// 3. The proof (RFC 9162 §2.1.3.2): hash the leaf up to the root, the proof's hashes as siblings.
let [fn, sn, r] = [doc.seq - 1, doc.tree_size - 1, leaf];
for (const p of doc.proof.map((h) => Buffer.from(h, 'base64'))) {
  if (sn === 0) fail('the proof is too long');
  if (fn % 2 === 1 || fn === sn) {
    r = sha256(Buffer.of(1), p, r);
    while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn / 2, Math.floor(sn / 2)];
  } else r = sha256(Buffer.of(1), r, p);
  [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
}
if (sn !== 0 || r.toString('base64') !== root) fail('the proof does not lead to the signed root');
console.log(`valid: entry ${doc.seq} is in the chain "${origin}" of ${size} entries, as signed`);
