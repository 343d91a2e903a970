/**
 * The Kubernetes manifests as written (deploy/k8s/base), without kubectl: the restricted Pod Security
 * settings, the portal's own rules, and the vendored SecretProviderClass schema. `npm run deploy:check`
 * (CI) renders the production overlay and runs the same rules plus full schema validation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type AnySchema } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  closed,
  deploymentProblems,
  type K8sObject,
  podSpecOf,
  renderedProblems,
  restrictedProblems,
} from '@/deploy/policy';
import { SECRET_NAMES } from '@/lib/secrets';

const BASE = 'deploy/k8s/base';
const objects: K8sObject[] = fs
  .readdirSync(BASE)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(BASE, f), 'utf8')))
  .map((doc) => doc.toJS() as K8sObject);
const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
const workloads = objects.filter((o) => podSpecOf(o));

type Pod = {
  automountServiceAccountToken?: boolean;
  securityContext: Record<string, unknown>;
  containers: { securityContext: Record<string, unknown> }[];
};

describe('deploy/k8s: the restricted Pod Security profile', () => {
  it('holds for the web Deployment and the migration Job, field by field', () => {
    expect(workloads.map((w) => `${w.kind} ${w.metadata.name}`)).toEqual([
      'Deployment portal',
      'Job portal-migrate',
    ]);
    for (const w of workloads) {
      const pod = podSpecOf(w) as Pod;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
      expect(restrictedProblems(w.metadata.name, pod as never)).toEqual([]);
    }
  });

  it('is enforced by the namespace at admission', () => {
    expect(byKind('Namespace')[0]?.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  interface LoosePod {
    hostNetwork?: boolean;
    automountServiceAccountToken?: boolean;
    securityContext: Record<string, unknown>;
    volumes: object[];
    containers: {
      securityContext: Record<string, unknown>;
      resources: { limits: Record<string, unknown> };
    }[];
  }
  const good = () => structuredClone(podSpecOf(byKind('Deployment')[0]!)!) as unknown as LoosePod;
  const sc = (p: LoosePod) => p.containers[0]!.securityContext;
  it.each<[string, (p: LoosePod) => void]>([
    ['privilege escalation', (p) => (sc(p).allowPrivilegeEscalation = true)],
    ['a writable root file system', (p) => delete sc(p).readOnlyRootFilesystem],
    [
      'root',
      (p) => {
        delete p.securityContext.runAsNonRoot;
        delete sc(p).runAsNonRoot;
      },
    ],
    ['capabilities kept', (p) => (sc(p).capabilities = { drop: ['NET_RAW'] })],
    [
      'no seccomp profile',
      (p) => {
        delete p.securityContext.seccompProfile;
        delete sc(p).seccompProfile;
      },
    ],
    ['a privileged container', (p) => (sc(p).privileged = true)],
    ['the host network', (p) => (p.hostNetwork = true)],
    ['a hostPath volume', (p) => p.volumes.push({ name: 'h', hostPath: { path: '/' } })],
    ['a mounted service-account token', (p) => delete p.automountServiceAccountToken],
    ['no memory limit', (p) => delete p.containers[0]!.resources.limits.memory],
    ['root for the pod, though each container says otherwise', (p) => (p.securityContext.runAsUser = 0)],
  ])('refuses %s', (_what, loosen) => {
    const pod = good();
    loosen(pod);
    expect(restrictedProblems('portal', pod as unknown as Record<string, unknown>)).toHaveLength(1);
  });
});

describe('deploy/k8s: the portal’s rules', () => {
  it('hold for the base manifests', () => {
    expect(deploymentProblems(objects)).toEqual([]);
  });

  it('want two replicas, a disruption budget, probes, deny-all and the migration job', () => {
    const without = (kind: string, name?: string) =>
      objects.filter((o) => !(o.kind === kind && (!name || o.metadata.name === name)));
    expect(deploymentProblems(without('PodDisruptionBudget'))).toEqual([
      'Deployment portal: no PodDisruptionBudget selects its pods',
    ]);
    expect(deploymentProblems(without('NetworkPolicy', 'default-deny'))).toEqual([
      expect.stringMatching(/^no deny-all NetworkPolicy/),
    ]);
    expect(deploymentProblems(without('Job'))).toEqual(['no migration Job']);
    const one = structuredClone(objects);
    (one.find((o) => o.kind === 'Deployment')!.spec as { replicas: number }).replicas = 1;
    expect(deploymentProblems(one)).toEqual(['Deployment portal: fewer than 2 replicas']);
  });

  it('want PORTAL_ENV=production set on every container itself, not only in the ConfigMap', () => {
    const unset = structuredClone(objects);
    for (const o of unset.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
      const pod = (o.spec as { template: { spec: { containers: { env?: { name: string }[] }[] } } }).template
        .spec;
      for (const c of pod.containers) c.env = c.env?.filter((e) => e.name !== 'PORTAL_ENV');
    }
    expect(deploymentProblems(unset)).toEqual([
      expect.stringMatching(/^Deployment portal, container portal: set PORTAL_ENV=production/),
      expect.stringMatching(/^Job [\w-]+, container migrate: set PORTAL_ENV=production/),
    ]);
  });

  it('let the web pods in only from the ingress namespace (3000) and Prometheus (9464, /metrics), and out only to DNS, PostgreSQL, Prometheus, Cloudflare and Splunk HEC', () => {
    const policies = byKind('NetworkPolicy');
    const web = policies.find((p) => p.metadata.name === 'portal-web')!.spec as {
      ingress: { from: unknown[]; ports: { port: number }[] }[];
      egress: { to: unknown[]; ports: { port: number }[] }[];
    };
    expect(web.ingress).toHaveLength(2);
    expect(web.ingress[0]).toEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'app-routing-system' } } }],
      ports: [{ protocol: 'TCP', port: 3000 }],
    });
    expect(web.ingress[1]).toEqual({
      from: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 9464 }],
    });
    const shared = policies.find((p) => p.metadata.name === 'portal-dns-and-postgres')!.spec as typeof web;
    const ports = [...shared.egress, ...web.egress].flatMap((e) => e.ports.map((p) => p.port));
    expect(ports.sort((a, b) => a - b)).toEqual([53, 53, 443, 443, 5432, 9090]);
  });
});

describe('deploy/k8s: what the rendered manifests need to start', () => {
  // As `kubectl kustomize` renders them (deploy:check renders the real thing): the generated ConfigMap in
  // the namespace, and the overlay's image by digest.
  const DIGEST = `registry.example/arbitex-staff-portal@sha256:${'ab'.repeat(32)}`;
  const rendered = (): K8sObject[] => {
    const copy = structuredClone(objects);
    for (const o of copy)
      for (const c of (podSpecOf(o)?.containers ?? []) as { image: string }[]) c.image = DIGEST;
    copy.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'portal-config', namespace: 'arbitex-portal' },
      data: { PORTAL_ENV: 'production', METRICS_PORT: '9464' },
    });
    return copy;
  };
  const web = (o: K8sObject[]) => o.find((x) => x.kind === 'Deployment')!;
  const container = (o: K8sObject[]) =>
    (
      podSpecOf(web(o))!.containers as {
        image: string;
        env: { valueFrom?: { secretKeyRef?: { key: string } } }[];
      }[]
    )[0]!;

  it('hold for the base manifests as rendered', () => {
    expect(renderedProblems(rendered(), SECRET_NAMES)).toEqual([]);
  });

  it('refuse a ConfigMap generated outside the pods’ namespace (kustomize then leaves the reference unrewritten)', () => {
    const o = rendered();
    delete o.find((x) => x.kind === 'ConfigMap')!.metadata.namespace;
    expect(renderedProblems(o, SECRET_NAMES)).toEqual([
      'Deployment portal: ConfigMap portal-config does not exist in namespace arbitex-portal',
      'Job portal-migrate: ConfigMap portal-config does not exist in namespace arbitex-portal',
    ]);
  });

  it('refuse a secret mount that lacks a secret the portal reads', () => {
    const o = rendered();
    const spc = o.find((x) => x.kind === 'SecretProviderClass' && x.metadata.name === 'portal-web')!;
    const parameters = (spc.spec as { parameters: { objects: string } }).parameters;
    parameters.objects = parameters.objects.replace(
      'objectAlias: audit-checkpoint-keys',
      'objectAlias: other',
    );
    expect(renderedProblems(o, SECRET_NAMES)).toEqual([
      'SecretProviderClass portal-web: does not mount the secret audit-checkpoint-keys',
    ]);
  });

  it('refuse a Secret key that no SecretProviderClass syncs, and a missing service account', () => {
    const o = rendered();
    container(o).env.find((e) => e.valueFrom?.secretKeyRef)!.valueFrom!.secretKeyRef!.key = 'DB_URL';
    o.splice(
      o.findIndex((x) => x.kind === 'ServiceAccount'),
      1,
    );
    expect(renderedProblems(o, SECRET_NAMES)).toEqual([
      'Deployment portal: ServiceAccount arbitex-portal does not exist in namespace arbitex-portal',
      'Deployment portal: key DB_URL of Secret portal-database does not exist in namespace arbitex-portal',
      'Job portal-migrate: ServiceAccount arbitex-portal does not exist in namespace arbitex-portal',
    ]);
  });

  it('refuse SIEM delivery the pods cannot make: no HEC token mounted, or no egress on its port', () => {
    const withHec = () => {
      const o = rendered();
      const config = o.find((x) => x.kind === 'ConfigMap')!;
      (config.data as Record<string, string>).SPLUNK_HEC_URL =
        'https://hec.example:8088/services/collector/event';
      return o;
    };
    expect(renderedProblems(withHec(), SECRET_NAMES)).toEqual([
      'SPLUNK_HEC_URL is set, but no NetworkPolicy lets the web pods out on port 8088',
    ]);
    const o = withHec();
    (o.find((x) => x.kind === 'ConfigMap')!.data as Record<string, string>).SPLUNK_HEC_URL =
      'https://hec.example/services/collector/event';
    const spc = o.find((x) => x.kind === 'SecretProviderClass' && x.metadata.name === 'portal-web')!;
    const parameters = (spc.spec as { parameters: { objects: string } }).parameters;
    parameters.objects = parameters.objects.replace('objectAlias: splunk-hec-token', 'objectAlias: other');
    expect(renderedProblems(o, SECRET_NAMES)).toEqual([
      'SPLUNK_HEC_URL is set, but the web pods do not mount the secret splunk-hec-token',
    ]);
  });

  it('refuse a witness the pods cannot reach: no egress on its port', () => {
    const o = rendered();
    (o.find((x) => x.kind === 'ConfigMap')!.data as Record<string, string>).AUDIT_WITNESS_URLS =
      'https://witness.example, https://witness2.example:8443/w';
    expect(renderedProblems(o, SECRET_NAMES)).toEqual([
      'AUDIT_WITNESS_URLS names https://witness2.example:8443/w, but no NetworkPolicy lets the web pods out on port 8443',
    ]);
  });

  it('refuse a metrics port open beyond the monitoring namespace, exposed by a Service, or not admitted', () => {
    const policy = (o: K8sObject[]) =>
      o.find((x) => x.kind === 'NetworkPolicy' && x.metadata.name === 'portal-web')!.spec as {
        ingress: { from: unknown[]; ports?: { port: number }[] }[];
      };
    const open = rendered();
    policy(open).ingress.push({ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 9464 }] });
    expect(renderedProblems(open, SECRET_NAMES)).toEqual([
      'METRICS_PORT 9464 is open to more than the monitoring namespace',
    ]);
    const allPorts = rendered();
    policy(allPorts).ingress[0]!.ports = undefined;
    expect(renderedProblems(allPorts, SECRET_NAMES)).toEqual([
      'METRICS_PORT 9464 is open to more than the monitoring namespace',
    ]);
    const closedOff = rendered();
    policy(closedOff).ingress.splice(1, 1);
    expect(renderedProblems(closedOff, SECRET_NAMES)).toEqual([
      'METRICS_PORT is 9464, but no NetworkPolicy lets the monitoring namespace in on it',
    ]);
    const exposed = rendered();
    (exposed.find((x) => x.kind === 'Service')!.spec as { ports: unknown[] }).ports.push({
      name: 'metrics',
      port: 9464,
      targetPort: 'metrics',
    });
    expect(renderedProblems(exposed, SECRET_NAMES)).toEqual(['Service portal exposes the metrics port 9464']);
  });

  it('refuse an image by tag', () => {
    const o = rendered();
    container(o).image = 'registry.example/arbitex-staff-portal:1.0';
    expect(renderedProblems(o, SECRET_NAMES)).toEqual([
      'Deployment portal/portal: image registry.example/arbitex-staff-portal:1.0 is not pinned by digest',
    ]);
  });
});

describe('deploy/schemas: SecretProviderClass', () => {
  const schema = JSON.parse(
    fs.readFileSync('deploy/schemas/secretproviderclass-v1.json', 'utf8'),
  ) as AnySchema;
  const validate = new Ajv({ strict: false }).compile(closed(schema));

  it('accepts both classes, which mount every secret the portal reads', () => {
    for (const spc of byKind('SecretProviderClass')) expect(validate(spc), spc.metadata.name).toBe(true);
    const web = byKind('SecretProviderClass').find((s) => s.metadata.name === 'portal-web')!;
    const objectsYaml = (web.spec as { parameters: { objects: string } }).parameters.objects;
    for (const name of SECRET_NAMES) expect(objectsYaml).toContain(`objectAlias: ${name}`);
  });

  it('refuses a misspelt field instead of dropping it, as the API server would', () => {
    const spc = structuredClone(byKind('SecretProviderClass')[0]!);
    (spc.spec as Record<string, unknown>).secretObject = [];
    expect(validate(spc)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ params: { additionalProperty: 'secretObject' } });
  });
});
