/**
 * `npm run audit:witness`: a C2SP tlog-witness for the audit chain's checkpoints (docs/AUDIT.md, "Witnesses").
 *
 *   npm run audit:witness -- keygen --name witness.example/w1 --key-file witness.key
 *   npm run audit:witness -- vkey --name witness.example/w1 --key-file witness.key
 *   npm run audit:witness -- serve --name witness.example/w1 --key-file witness.key --logs logs.json \
 *                                  --state-dir state/ [--listen 127.0.0.1:7380]
 *
 * Every flag may instead come from the environment: WITNESS_NAME, WITNESS_KEY_FILE, WITNESS_LOGS_FILE,
 * WITNESS_STATE_DIR, WITNESS_LISTEN, WITNESS_LOG_LEVEL. It reads none of the portal's settings or secrets
 * and needs no database; `npm run build:tools` also bundles it into `.next/tools/audit-witness.mjs`, which
 * runs with `node` alone on another machine.
 *
 * Exit status: 0 done (serve: stopped by SIGTERM or SIGINT), 2 bad flags, an unreadable file or a start-up
 * failure.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { isKeyName } from '@/lib/audit/note';
import { cosignerVerifierKey } from '@/lib/audit/witness-protocol';
import { parseLogsFile, startWitness } from '@/lib/audit/witness-server';

const USAGE = `usage: npm run audit:witness -- keygen --name NAME --key-file FILE
       npm run audit:witness -- vkey --name NAME --key-file FILE
       npm run audit:witness -- serve --name NAME --key-file FILE --logs LOGS.json --state-dir DIR [--listen HOST:PORT]`;

class UsageError extends Error {}

const required = z.string({ error: (i) => (i.input === undefined ? 'is required' : undefined) });
const Name = required.refine(
  isKeyName,
  'must be a key name: no spaces or plus signs, e.g. witness.example/w1',
);
const Listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:7380')
  .transform((v) => {
    const at = v.lastIndexOf(':');
    return { host: v.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(v.slice(at + 1)) };
  })
  .refine((l) => l.port <= 65535, 'the port must be 0-65535');
const Options = z.object({
  command: z.enum(['keygen', 'vkey', 'serve']),
  name: Name,
  keyFile: required.min(1),
  logsFile: z.string().min(1).optional(),
  stateDir: z.string().min(1).optional(),
  listen: Listen.default({ host: '127.0.0.1', port: 7380 }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** How each option is given, for the messages about it. */
const SETTING = {
  command: 'the command',
  name: '--name (WITNESS_NAME)',
  keyFile: '--key-file (WITNESS_KEY_FILE)',
  logsFile: '--logs (WITNESS_LOGS_FILE)',
  stateDir: '--state-dir (WITNESS_STATE_DIR)',
  listen: '--listen (WITNESS_LISTEN)',
  logLevel: 'WITNESS_LOG_LEVEL',
} as const;

function options(argv: string[], env: NodeJS.ProcessEnv) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      'key-file': { type: 'string' },
      logs: { type: 'string' },
      'state-dir': { type: 'string' },
      listen: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError(`one command, not ${positionals.join(' ')}`);
  const parsed = Options.safeParse({
    command: positionals[0] ?? 'serve',
    name: values.name ?? env.WITNESS_NAME,
    keyFile: values['key-file'] ?? env.WITNESS_KEY_FILE,
    logsFile: values.logs ?? env.WITNESS_LOGS_FILE,
    stateDir: values['state-dir'] ?? env.WITNESS_STATE_DIR,
    listen: values.listen ?? env.WITNESS_LISTEN,
    logLevel: env.WITNESS_LOG_LEVEL,
  });
  if (!parsed.success)
    throw new UsageError(
      parsed.error.issues
        .map((i) => `${SETTING[i.path[0] as keyof typeof SETTING] ?? 'a setting'}: ${i.message}`)
        .join('\n'),
    );
  const o = parsed.data;
  if (o.command === 'serve' && (!o.logsFile || !o.stateDir))
    throw new UsageError('serve needs --logs (the logs and their keys) and --state-dir');
  return o;
}

function readPrivateKey(file: string): crypto.KeyObject {
  const key = crypto.createPrivateKey(fs.readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
  return key;
}

/** Writes a new Ed25519 key (PKCS#8 PEM, readable by its owner only); never replaces a file. */
function keygen(name: string, file: string): string {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { flag: 'wx', mode: 0o600 });
  return cosignerVerifierKey(name, privateKey);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options(argv, env);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    console.error(USAGE);
    return 2;
  }
  try {
    if (o.command === 'keygen') {
      const vkey = keygen(o.name, o.keyFile);
      console.error(`wrote a new witness key to ${o.keyFile}: keep it secret, on this machine only`);
      console.error('its verifier key, for the portal’s AUDIT_WITNESS_KEYS:');
      console.log(vkey);
      return 0;
    }
    const privateKey = readPrivateKey(o.keyFile);
    if (o.command === 'vkey') {
      console.log(cosignerVerifierKey(o.name, privateKey));
      return 0;
    }
    const logs = parseLogsFile(fs.readFileSync(o.logsFile!, 'utf8'));
    const logger = pino({
      level: o.logLevel,
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    });
    const running = await startWitness({
      name: o.name,
      privateKey,
      logs,
      stateDir: o.stateDir!,
      host: o.listen.host,
      port: o.listen.port,
      logger,
    });
    logger.info(
      { url: running.url, name: o.name, verifier_key: running.witness.verifierKey, logs: [...logs.keys()] },
      'witness listening',
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'witness stopping');
        void running.close().then(resolve, resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    return 0;
  } catch (err) {
    console.error(`audit:witness: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
