/**
 * What the portal's Kubernetes objects must hold beyond their schemas: the restricted Pod Security
 * Standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted) plus the
 * portal's own rules (read-only root file system, no service account token, requests and limits, probes,
 * replicas and a disruption budget, deny-by-default network policy, the migration job as a hook).
 * Used by deploy/check.ts on the rendered manifests and by test/deploy.test.ts.
 */
import type { AnySchema } from 'ajv';
import { parse } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** The pod template of a workload, or undefined for other kinds. */
export function podSpecOf(o: K8sObject): Obj | undefined {
  const spec = obj(o.spec);
  if (o.kind === 'Pod') return spec;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind))
    return obj(obj(spec.template).spec);
  if (o.kind === 'CronJob') return obj(obj(obj(obj(spec.jobTemplate).spec).template).spec);
  return undefined;
}

/** Every way a pod spec falls short of the restricted profile and the portal's hardening; [] when none. */
export function restrictedProblems(name: string, pod: Obj): string[] {
  const problems: string[] = [];
  const podSc = obj(pod.securityContext);
  // The pod's own runAsUser counts even when every container overrides it: an init or ephemeral container
  // added later inherits it, and the restricted profile refuses 0 at either level.
  if (podSc.runAsUser === 0) problems.push(`${name}: the pod's runAsUser is 0 (root)`);
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC'])
    if (pod[host] === true) problems.push(`${name}: ${host} is on`);
  if (pod.automountServiceAccountToken !== false)
    problems.push(`${name}: automountServiceAccountToken must be false`);
  for (const volume of list(pod.volumes)) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUMES.has(type))
      problems.push(`${name}: volume ${String(volume.name)} of type ${type} is not allowed`);
  }
  const containers = [...list(pod.initContainers), ...list(pod.containers), ...list(pod.ephemeralContainers)];
  if (containers.length === 0) problems.push(`${name}: no containers`);
  for (const c of containers) {
    const where = `${name}/${String(c.name)}`;
    const sc = obj(c.securityContext);
    if (sc.privileged === true) problems.push(`${where}: privileged`);
    if (sc.allowPrivilegeEscalation !== false)
      problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
    const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot must be true`);
    if (sc.runAsUser === 0) problems.push(`${where}: runAsUser is 0 (root)`);
    const caps = obj(sc.capabilities);
    if (!(Array.isArray(caps.drop) && caps.drop.includes('ALL')))
      problems.push(`${where}: capabilities must drop ALL`);
    if (Array.isArray(caps.add) && caps.add.length > 0)
      problems.push(`${where}: adds capabilities ${caps.add.join(', ')}`);
    const seccomp = obj(sc.seccompProfile).type ?? obj(podSc.seccompProfile).type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      problems.push(`${where}: seccompProfile must be RuntimeDefault`);
    if (list(c.ports).some((p) => p.hostPort !== undefined)) problems.push(`${where}: uses a hostPort`);
    const resources = obj(c.resources);
    for (const kind of ['requests', 'limits'])
      for (const r of ['cpu', 'memory'])
        if (obj(resources[kind])[r] === undefined) problems.push(`${where}: no ${kind}.${r}`);
  }
  return problems;
}

/** The rules that concern the set of objects as a whole. */
export function deploymentProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (pod) problems.push(...restrictedProblems(`${o.kind} ${o.metadata.name}`, pod));
  }
  const web = objects.filter(
    (o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'web',
  );
  if (web.length !== 1) problems.push('expected one web Deployment');
  for (const d of web) {
    const spec = obj(d.spec);
    if (typeof spec.replicas !== 'number' || spec.replicas < 2)
      problems.push(`Deployment ${d.metadata.name}: fewer than 2 replicas`);
    for (const c of list(podSpecOf(d)?.containers)) {
      if (obj(obj(c.readinessProbe).httpGet).path !== '/api/ready')
        problems.push(`Deployment ${d.metadata.name}: the readiness probe must call /api/ready`);
      if (obj(obj(c.livenessProbe).httpGet).path !== '/api/health')
        problems.push(`Deployment ${d.metadata.name}: the liveness probe must call /api/health`);
    }
    const selector = obj(obj(spec.selector).matchLabels);
    const pdb = objects.find(
      (o) =>
        o.kind === 'PodDisruptionBudget' &&
        JSON.stringify(obj(obj(o.spec).selector).matchLabels) === JSON.stringify(selector),
    );
    if (!pdb) problems.push(`Deployment ${d.metadata.name}: no PodDisruptionBudget selects its pods`);
  }
  const denyAll = objects.some((o) => {
    const spec = obj(o.spec);
    return (
      o.kind === 'NetworkPolicy' &&
      Object.keys(obj(spec.podSelector)).length === 0 &&
      JSON.stringify(spec.policyTypes) === JSON.stringify(['Ingress', 'Egress']) &&
      spec.ingress === undefined &&
      spec.egress === undefined
    );
  });
  if (!denyAll) problems.push('no deny-all NetworkPolicy (empty podSelector, Ingress and Egress, no rules)');
  const jobs = objects.filter((o) => o.kind === 'Job');
  if (!jobs.some((j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'migrate'))
    problems.push('no migration Job');
  // Set on the container itself, so that no ConfigMap edit can turn a pod into a local one.
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
    for (const c of list(podSpecOf(o)?.containers)) {
      const env = list(c.env).map(obj);
      if (!env.some((e) => e.name === 'PORTAL_ENV' && e.value === 'production'))
        problems.push(
          `${o.kind} ${o.metadata.name}, container ${String(c.name)}: set PORTAL_ENV=production in env`,
        );
    }
  }
  for (const config of objects.filter(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('portal-config'),
  )) {
    if (obj(config.data).PORTAL_ENV !== 'production')
      problems.push(`ConfigMap ${config.metadata.name}: PORTAL_ENV must be production`);
  }
  return problems;
}

const namespaceOf = (o: K8sObject) => o.metadata.namespace ?? '(none)';

/** The names a SecretProviderClass mounts as files: each object's alias, or its name when it has none. */
export function mountedSecretNames(spc: K8sObject): string[] {
  const objects = obj(obj(spc.spec).parameters).objects;
  if (typeof objects !== 'string') return [];
  const array = obj(parse(objects)).array;
  return (Array.isArray(array) ? array : [])
    .map((item) => obj(typeof item === 'string' ? parse(item) : item))
    .map((o) => String(o.objectAlias ?? o.objectName));
}

/**
 * What the rendered manifests must hold to start, beyond each object being valid on its own: every
 * ConfigMap, Secret, SecretProviderClass and service account a pod names exists in the pod's namespace
 * (a Secret may be one a SecretProviderClass there syncs, with that key); the class the web pods mount
 * provides every secret the portal reads (`secretNames`, lib/secrets.ts); every image is pinned by digest.
 */
export function renderedProblems(objects: K8sObject[], secretNames: readonly string[]): string[] {
  const problems: string[] = [];
  const find = (kind: string, name: string, namespace: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && namespaceOf(o) === namespace);
  const syncedSecret = (name: string, key: string | undefined, namespace: string) =>
    objects.some(
      (o) =>
        o.kind === 'SecretProviderClass' &&
        namespaceOf(o) === namespace &&
        list(obj(o.spec).secretObjects).some(
          (s) => s.secretName === name && (key === undefined || list(s.data).some((d) => d.key === key)),
        ),
    );
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    const where = `${o.kind} ${o.metadata.name}`;
    const ns = namespaceOf(o);
    const missing = (what: string) => problems.push(`${where}: ${what} does not exist in namespace ${ns}`);
    const configMap = (name: unknown) => {
      if (!find('ConfigMap', String(name), ns)) missing(`ConfigMap ${String(name)}`);
    };
    const secret = (name: unknown, key?: unknown) => {
      const n = String(name);
      const k = key === undefined ? undefined : String(key);
      const real = find('Secret', n, ns);
      if (real ? k !== undefined && obj(real.data)[k] === undefined : !syncedSecret(n, k, ns))
        missing(k === undefined ? `Secret ${n}` : `key ${k} of Secret ${n}`);
    };
    if (pod.serviceAccountName !== undefined && !find('ServiceAccount', String(pod.serviceAccountName), ns))
      missing(`ServiceAccount ${String(pod.serviceAccountName)}`);
    for (const c of [...list(pod.initContainers), ...list(pod.containers)]) {
      const image = String(c.image);
      if (!/@sha256:[0-9a-f]{64}$/.test(image))
        problems.push(`${where}/${String(c.name)}: image ${image} is not pinned by digest`);
      for (const from of list(c.envFrom)) {
        if (from.configMapRef) configMap(obj(from.configMapRef).name);
        if (from.secretRef) secret(obj(from.secretRef).name);
      }
      for (const e of list(c.env)) {
        const ref = obj(e.valueFrom);
        if (ref.configMapKeyRef) configMap(obj(ref.configMapKeyRef).name);
        if (ref.secretKeyRef) secret(obj(ref.secretKeyRef).name, obj(ref.secretKeyRef).key);
      }
    }
    for (const v of list(pod.volumes)) {
      if (v.configMap) configMap(obj(v.configMap).name);
      if (v.secret) secret(obj(v.secret).secretName);
      const spcName = obj(obj(v.csi).volumeAttributes).secretProviderClass;
      if (spcName === undefined) continue;
      const spc = find('SecretProviderClass', String(spcName), ns);
      if (!spc) {
        missing(`SecretProviderClass ${String(spcName)}`);
        continue;
      }
      if (o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'web') {
        const mounted = new Set(mountedSecretNames(spc));
        for (const name of secretNames)
          if (!mounted.has(name))
            problems.push(`SecretProviderClass ${spc.metadata.name}: does not mount the secret ${name}`);
      }
    }
  }
  problems.push(...egressProblems(objects));
  problems.push(...metricsProblems(objects));
  return problems;
}

/**
 * With METRICS_PORT in the portal's ConfigMap, /metrics must be reachable by the monitoring namespace only:
 * a NetworkPolicy admits ingress to the web pods on that port from the monitoring namespace and nowhere
 * else, the container declares the port, and no Service exposes it (the listener has no gate and no token:
 * docs/OPERATIONS.md, section 7).
 */
export function metricsProblems(objects: K8sObject[]): string[] {
  const { config, web, selects } = webPods(objects);
  const value = config.METRICS_PORT;
  if (value === undefined) return [];
  const port = Number(value);
  const problems: string[] = [];
  const pod = web ? podSpecOf(web) : undefined;
  if (!list(pod?.containers).some((c) => list(c.ports).some((p) => p.containerPort === port)))
    problems.push(`METRICS_PORT is ${port}, but the web container does not declare that port`);
  const rules = objects
    .filter((o) => o.kind === 'NetworkPolicy' && selects(o))
    .flatMap((o) => list(obj(o.spec).ingress))
    .filter((rule) => list(rule.ports).length === 0 || list(rule.ports).some((p) => p.port === port));
  const fromMonitoring = (peer: Obj) =>
    obj(obj(peer.namespaceSelector).matchLabels)['kubernetes.io/metadata.name'] === 'monitoring';
  if (rules.length === 0)
    problems.push(`METRICS_PORT is ${port}, but no NetworkPolicy lets the monitoring namespace in on it`);
  for (const rule of rules)
    if (list(rule.from).length === 0 || !list(rule.from).every(fromMonitoring))
      problems.push(`METRICS_PORT ${port} is open to more than the monitoring namespace`);
  for (const service of objects.filter((o) => o.kind === 'Service'))
    if (list(obj(service.spec).ports).some((p) => p.targetPort === port || p.targetPort === 'metrics'))
      problems.push(`Service ${service.metadata.name} exposes the metrics port ${port}`);
  return problems;
}

/**
 * The portal's outbound calls the web pods need a way out for: with SPLUNK_HEC_URL in the portal's ConfigMap,
 * the HEC token (lib/secrets.ts requires it at start-up) and a NetworkPolicy that lets them out on the
 * collector's port; with AUDIT_WITNESS_URLS, a way out on each witness's port.
 */
function egressProblems(objects: K8sObject[]): string[] {
  const { config, web, selects } = webPods(objects);
  const problems: string[] = [];
  const open = (port: number) =>
    objects.some(
      (o) =>
        o.kind === 'NetworkPolicy' &&
        selects(o) &&
        list(obj(o.spec).egress).some((rule) => list(rule.ports).some((p) => p.port === port)),
    );
  const portOf = (url: string) => {
    const { protocol, port } = new URL(url);
    return Number(port || (protocol === 'https:' ? 443 : 80));
  };
  const hec = config.SPLUNK_HEC_URL;
  if (typeof hec === 'string') {
    const spcName = list(podSpecOf(web ?? ({} as K8sObject))?.volumes)
      .map((v) => obj(obj(v.csi).volumeAttributes).secretProviderClass)
      .find((n) => n !== undefined);
    const spc = objects.find((o) => o.kind === 'SecretProviderClass' && o.metadata.name === spcName);
    if (!spc || !mountedSecretNames(spc).includes('splunk-hec-token'))
      problems.push('SPLUNK_HEC_URL is set, but the web pods do not mount the secret splunk-hec-token');
    if (!open(portOf(hec)))
      problems.push(
        `SPLUNK_HEC_URL is set, but no NetworkPolicy lets the web pods out on port ${portOf(hec)}`,
      );
  }
  const witnesses = config.AUDIT_WITNESS_URLS;
  if (typeof witnesses === 'string')
    for (const url of witnesses
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean))
      if (!open(portOf(url)))
        problems.push(
          `AUDIT_WITNESS_URLS names ${url}, but no NetworkPolicy lets the web pods out on port ${portOf(url)}`,
        );
  return problems;
}

/** The portal's ConfigMap data, the web Deployment, and whether a NetworkPolicy selects its pods. */
function webPods(objects: K8sObject[]) {
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('portal-config'));
  const web = objects.find(
    (o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'web',
  );
  const podLabels = obj(obj(obj(web?.spec).template).metadata).labels as Record<string, string> | undefined;
  const selects = (policy: K8sObject) =>
    Object.entries(obj(obj(obj(policy.spec).podSelector).matchLabels)).every(
      ([k, v]) => podLabels?.[k] === v,
    );
  return { config: obj(config?.data), web, selects };
}

/**
 * The API server prunes unknown fields of a CRD; refusing them here catches a misspelt field that would
 * otherwise vanish. Objects that list their properties get additionalProperties: false, except
 * `metadata`, which the schema leaves open.
 */
export function closed(schema: AnySchema): AnySchema {
  if (!schema || typeof schema !== 'object') return schema;
  const s = { ...(schema as Record<string, unknown>) };
  delete s.$comment;
  if (s.properties) {
    s.properties = Object.fromEntries(
      Object.entries(s.properties as Record<string, AnySchema>).map(([k, v]) => [k, closed(v)]),
    );
    s.additionalProperties ??= false;
  }
  if (s.items) s.items = closed(s.items as AnySchema);
  return s;
}
