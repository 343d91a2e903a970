/**
 * `npm run deploy:check`: renders the production overlay with `kubectl kustomize` and validates every
 * object it yields; rendering alone proves nothing about the objects.
 *
 * 1. Kubernetes kinds, twice:
 *    - as TypeScript literals of their `kubernetes-types` type, through tsc: an unknown or misspelt field
 *      (`readOnlyRootFileSystem`), a missing required field or a wrong type fails, as the API server's
 *      strict field validation would;
 *    - against the OpenAPI schemas of `kubernetes-models` (formats, quantities, int-or-string).
 * 2. SecretProviderClass (a CRD): the CRD's openAPIV3Schema, vendored in deploy/schemas with its source,
 *    through ajv, with unknown fields refused.
 * 3. The portal's rules (deploy/policy.ts): the restricted Pod Security profile and the rest, and what the
 *    rendered objects need to start: every reference resolves in its namespace, the web pods' secret
 *    mount provides every secret lib/secrets.ts reads, images are pinned by digest.
 * A kind none of these knows fails the check.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type AnySchema } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { SECRET_NAMES } from '../lib/secrets';
import { closed, deploymentProblems, type K8sObject, renderedProblems } from './policy';

const OVERLAY = process.argv[2] ?? 'deploy/k8s/overlays/production';

/** Kind -> the kubernetes-types module and the kubernetes-models class that describe it. */
const KINDS: Record<string, { types: string; model: string }> = {
  'v1/Namespace': { types: 'core/v1', model: 'v1/Namespace' },
  'v1/ServiceAccount': { types: 'core/v1', model: 'v1/ServiceAccount' },
  'v1/ConfigMap': { types: 'core/v1', model: 'v1/ConfigMap' },
  'v1/Service': { types: 'core/v1', model: 'v1/Service' },
  'apps/v1/Deployment': { types: 'apps/v1', model: 'apps/v1/Deployment' },
  'batch/v1/Job': { types: 'batch/v1', model: 'batch/v1/Job' },
  'policy/v1/PodDisruptionBudget': { types: 'policy/v1', model: 'policy/v1/PodDisruptionBudget' },
  'networking.k8s.io/v1/NetworkPolicy': {
    types: 'networking/v1',
    model: 'networking.k8s.io/v1/NetworkPolicy',
  },
};
const CRDS: Record<string, string> = {
  'secrets-store.csi.x-k8s.io/v1/SecretProviderClass': 'deploy/schemas/secretproviderclass-v1.json',
};

export function render(overlay: string): K8sObject[] {
  const kubectl = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' });
  if (kubectl.error) throw new Error(`kubectl is needed to render ${overlay}: ${kubectl.error.message}`);
  if (kubectl.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed:\n${kubectl.stderr}`);
  return parseAllDocuments(kubectl.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

const key = (o: K8sObject) => `${o.apiVersion}/${o.kind}`;
const label = (o: K8sObject) => `${o.kind} ${o.metadata?.name}`;

/** tsc over the objects as typed literals; one line per error, naming the object. */
function typeProblems(objects: K8sObject[]): string[] {
  const dir = path.join('node_modules', '.cache', 'deploy-check');
  fs.mkdirSync(dir, { recursive: true });
  const modules = [...new Set(objects.map((o) => KINDS[key(o)]?.types).filter(Boolean))] as string[];
  const lines = modules.map((m, i) => `import type * as m${i} from 'kubernetes-types/${m}';`);
  const owners: string[] = lines.map(() => '(imports)');
  objects.forEach((o, i) => {
    const kind = KINDS[key(o)];
    if (!kind) return;
    const body = `export const o${i}: m${modules.indexOf(kind.types)}.${o.kind} = ${JSON.stringify(o, null, 2)};`;
    for (const line of body.split('\n')) {
      lines.push(line);
      owners.push(label(o));
    }
  });
  const file = path.join(dir, 'rendered.ts');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const tsc = spawnSync(
    'node_modules/.bin/tsc',
    ['--noEmit', '--strict', '--module', 'esnext', '--moduleResolution', 'bundler', '--skipLibCheck', file],
    { encoding: 'utf8' },
  );
  if (tsc.status === 0) return [];
  return tsc.stdout
    .split('\n')
    .filter((l) => l.includes('error TS'))
    .map((l) => {
      const line = Number(/\((\d+),\d+\)/.exec(l)?.[1]);
      return `${owners[line - 1] ?? '?'}: ${l.replace(/^.*error /, '')}`;
    });
}

async function schemaProblems(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const o of objects) {
    const kind = KINDS[key(o)];
    if (kind) {
      const exported = (await import(`kubernetes-models/${kind.model}`)) as Record<
        string,
        new (data: unknown) => { validate(): void }
      >;
      const Model = exported[o.kind]!;
      try {
        new Model(o).validate();
      } catch (err) {
        problems.push(`${label(o)}: ${(err as Error).message}`);
      }
      continue;
    }
    const crd = CRDS[key(o)];
    if (crd) {
      const validate = ajv.compile(closed(JSON.parse(fs.readFileSync(crd, 'utf8')) as AnySchema));
      if (!validate(o))
        for (const e of validate.errors ?? [])
          problems.push(`${label(o)}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
      continue;
    }
    problems.push(`${label(o)}: ${key(o)} is a kind deploy/check.ts cannot validate`);
  }
  return problems;
}

async function main() {
  const objects = render(OVERLAY);
  const kinds = objects.map(label);
  const problems = [
    ...typeProblems(objects),
    ...(await schemaProblems(objects)),
    ...deploymentProblems(objects),
    ...renderedProblems(objects, SECRET_NAMES),
  ];
  if (problems.length > 0) {
    console.error(`deploy:check: ${problems.length} problem(s) in ${OVERLAY}:`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log(
    `deploy:check: ${OVERLAY} renders ${objects.length} objects, all valid:\n  ${kinds.join('\n  ')}`,
  );
}

if (import.meta.url === `file://${path.resolve(process.argv[1] ?? '')}`) await main();
