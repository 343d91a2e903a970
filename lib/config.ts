import { z } from 'zod';

/**
 * All configuration, parsed once from the environment. Nothing else reads process.env.
 *
 * Edge-safe (middleware.ts uses it): no Node modules here.
 *
 * PORTAL_ENV (not NODE_ENV, which `next start` always sets to production) chooses the deployment profile.
 */
const Env = z.object({
  PORTAL_ENV: z.enum(['local', 'production']).default('local'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** Where embedded mode keeps its database and generated secrets. */
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Where secrets come from: `files` under SECRETS_DIR (the Key Vault CSI mount), `env` variables named
   * SECRET_<NAME>, or `generated` once and kept under DATA_DIR/secrets (local only).
   */
  SECRETS_BACKEND: z.enum(['files', 'env', 'generated']).optional(),
  SECRETS_DIR: z.string().min(1).optional(),
});

export type Config = Readonly<
  Omit<z.infer<typeof Env>, 'SECRETS_BACKEND'> & {
    SECRETS_BACKEND: 'files' | 'env' | 'generated';
    dbKind: 'postgres' | 'pglite';
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Refusing to start, the configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const secretsBackend =
    e.SECRETS_BACKEND ?? (e.SECRETS_DIR ? 'files' : e.PORTAL_ENV === 'production' ? 'files' : 'generated');
  const config: Config = {
    ...e,
    SECRETS_BACKEND: secretsBackend,
    dbKind: e.DATABASE_URL ? 'postgres' : 'pglite',
  };
  const problems = productionProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Settings that are fine on a laptop but insecure in production. Each is one line of the refusal. */
function productionProblems(c: Config): string[] {
  if (c.PORTAL_ENV !== 'production') return [];
  const problems: string[] = [];
  if (c.dbKind === 'pglite')
    problems.push('DATABASE_URL is not set: production needs PostgreSQL, not the embedded database');
  if (c.SECRETS_BACKEND === 'env')
    problems.push('SECRETS_BACKEND=env: production reads secrets from files under SECRETS_DIR');
  if (c.SECRETS_BACKEND === 'generated')
    problems.push('SECRETS_BACKEND=generated: production never generates its own secrets');
  if (!c.SECRETS_DIR)
    problems.push('SECRETS_DIR is not set: production reads secrets from the Key Vault CSI mount');
  return problems;
}

let cached: Config | undefined;

export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
