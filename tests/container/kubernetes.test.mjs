// deploy/kubernetes rendered and checked offline (no cluster can run on these machines): each
// kustomization renders (kustomize-lite.mjs, and `kubectl kustomize` too where it is installed:
// both must give the same objects), every object passes its Kubernetes schema with no unknown
// field (k8s-schema.mjs), and the pieces fit together the way the services need: probes on the
// real endpoints, a stop sequence that covers the gateway's drain, selectors that select, the ONE
// nginx routing file, the secret never in git. Run by ctest, label `container`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { kustomize } from './kustomize-lite.mjs';
import { validate, unknownFields } from './k8s-schema.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const K8S = path.join(ROOT, 'deploy/kubernetes');
const TEMPLATE = readFileSync(path.join(ROOT, 'services/load-balancer/clickrace.conf.template'), 'utf8');

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
console.log(kubectl ? 'kubernetes: rendering with kustomize-lite and kubectl kustomize'
  : 'kubernetes: kubectl not installed: rendering with kustomize-lite only');

// The base plus the connections-per-pod component, as an overlay would use it.
const withComponent = mkdtempSync(path.join(tmpdir(), 'clickrace-k8s-'));
writeFileSync(path.join(withComponent, 'kustomization.yaml'), YAML.stringify({
  apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization',
  // kustomize takes relative paths only.
  resources: [path.relative(withComponent, path.join(K8S, 'base'))],
  components: [path.relative(withComponent, path.join(K8S, 'components/hpa-connections'))],
}));
process.on('exit', () => rmSync(withComponent, { recursive: true, force: true }));

const TARGETS = { base: path.join(K8S, 'base'), dev: path.join(K8S, 'overlays/dev'), component: withComponent };
const rendered = Object.fromEntries(Object.entries(TARGETS).map(([k, dir]) => [k, kustomize(dir)]));

const key = (o) => `${o.kind}/${o.metadata.namespace || ''}/${o.metadata.name}`;
const byKey = (list) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
const find = (objs, kind, name) => {
  // Generated ConfigMaps carry a content hash suffix (10 characters).
  const o = objs.find((x) => x.kind === kind && (x.metadata.name === name
    || (kind === 'ConfigMap' && new RegExp(`^${name}-[a-z0-9]{10}$`).test(x.metadata.name))));
  assert.ok(o, `${kind} ${name} rendered`);
  return o;
};
const envOf = (c) => Object.fromEntries((c.env || []).map((e) => [e.name, e]));
const selects = (selector, labels) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

test('every kustomization renders; kubectl kustomize agrees where it is installed', () => {
  for (const [name, dir] of Object.entries(TARGETS)) {
    assert.ok(rendered[name].length > 0, name);
    if (!kubectl) continue;
    const out = execFileSync('kubectl', ['kustomize', '--load-restrictor=LoadRestrictionsNone', dir], { encoding: 'utf8' });
    const theirs = YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
    assert.deepEqual(byKey(rendered[name]), byKey(theirs), `${name}: kustomize-lite and kubectl kustomize differ`);
  }
  // Plain `kubectl apply -k` refuses the symlinked template; the docs say to pass the flag.
  if (kubectl) {
    const r = spawnSync('kubectl', ['kustomize', TARGETS.base], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, 'kustomize loads the template through the symlink only with LoadRestrictionsNone');
  }
});

test('every object passes its Kubernetes schema and has no unknown field', async () => {
  for (const [name, objs] of Object.entries(rendered)) {
    for (const o of objs) {
      await validate(o).catch((e) => assert.fail(`${name}: ${key(o)}: ${e.message}`));
      assert.deepEqual(unknownFields(o), [], `${name}: ${key(o)}: fields its kind does not have`);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/name'] !== undefined || o.kind === 'ConfigMap' || o.kind === 'Namespace', true, `${key(o)} labelled`);
    }
  }
  // The checker itself notices a misspelt field (a schema alone would not).
  const d = structuredClone(find(rendered.base, 'Deployment', 'clickrace-gateway'));
  d.spec.template.spec.containers[0].readinesProbe = d.spec.template.spec.containers[0].readinessProbe;
  assert.deepEqual(unknownFields(d), ['Deployment/clickrace-gateway.spec.template.spec.containers[0].readinesProbe']);
});

test('gateway: probes on /readyz and /healthz, preStop + grace period cover the drain, resources, non-root, scraped', () => {
  const dep = find(rendered.base, 'Deployment', 'clickrace-gateway');
  const pod = dep.spec.template.spec;
  const [c] = pod.containers;
  const port = c.ports.find((p) => p.name === 'http');
  assert.equal(port.containerPort, 8080);
  assert.equal(envOf(c).CLICKRACE_GATEWAY_PORT.value, '8080');
  assert.deepEqual(c.command, ['hub-gateway']);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.readinessProbe.httpGet.port, 'http');
  assert.equal(c.livenessProbe.httpGet.port, 'http');

  // The stop sequence: preStop (leave the endpoints), SIGTERM, the click drain
  // (CLICKRACE_SHUTDOWN_GRACE_MS), up to 2 s of close handshakes; all inside the grace period.
  const sleep = Number(c.lifecycle.preStop.exec.command[1]);
  assert.equal(c.lifecycle.preStop.exec.command[0], 'sleep');
  const drainS = Number(envOf(c).CLICKRACE_SHUTDOWN_GRACE_MS.value) / 1000;
  assert.ok(sleep >= 5, 'preStop outlasts the load balancer\'s 5 s DNS refresh');
  assert.ok(pod.terminationGracePeriodSeconds >= sleep + drainS + 2 + 1,
    `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} < preStop ${sleep} + drain ${drainS} + close 2 + 1`);
  assert.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0);

  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
  // The image's user (Dockerfile USER) is the one the pod insists on.
  const user = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').match(/^USER (\d+)/m)[1];
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(String(pod.securityContext.runAsUser), user);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);

  // The token secret from a Secret (required); the Redis URL from the Secret when it is there.
  const tok = envOf(c).CLICKRACE_TOKEN_SECRET.valueFrom.secretKeyRef;
  assert.deepEqual([tok.name, tok.key, tok.optional], ['clickrace-secrets', 'CLICKRACE_TOKEN_SECRET', undefined]);
  assert.equal(envOf(c).CLICKRACE_REDIS_URL.valueFrom.secretKeyRef.optional, true);
  for (const objs of Object.values(rendered)) assert.ok(!objs.some((o) => o.kind === 'Secret'), 'no Secret in git');

  const ann = dep.spec.template.metadata.annotations;
  assert.equal(ann['prometheus.io/scrape'], 'true');
  assert.equal(ann['prometheus.io/port'], String(port.containerPort));
  assert.equal(ann['prometheus.io/path'], '/metrics');
});

test('scheduler: two replicas (leader + standby), probes, scraped, never both disrupted', () => {
  const dep = find(rendered.base, 'Deployment', 'clickrace-scheduler');
  const [c] = dep.spec.template.spec.containers;
  assert.equal(dep.spec.replicas, 2);
  assert.deepEqual(c.command, ['round-scheduler']);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.ports[0].containerPort, 8081);
  assert.equal(dep.spec.template.metadata.annotations['prometheus.io/port'], '8081');
  assert.equal(find(rendered.base, 'PodDisruptionBudget', 'clickrace-scheduler').spec.minAvailable, 1);
});

test('autoscaling on CPU, plus connections per pod from the component; disruption budgets', () => {
  const hpa = find(rendered.base, 'HorizontalPodAutoscaler', 'clickrace-gateway');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'clickrace-gateway' });
  assert.ok(hpa.spec.minReplicas >= 2);
  assert.deepEqual(hpa.spec.metrics.map((m) => m.type), ['Resource']);
  assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  const withConn = find(rendered.component, 'HorizontalPodAutoscaler', 'clickrace-gateway');
  const pods = withConn.spec.metrics.find((m) => m.type === 'Pods');
  assert.equal(pods.pods.metric.name, 'clickrace_gateway_connections');
  // ...a gauge the gateway really exports.
  const src = readdirSync(path.join(ROOT, 'services/hub-gateway/src'))
    .map((f) => readFileSync(path.join(ROOT, 'services/hub-gateway/src', f), 'utf8')).join('\n');
  assert.match(src, /"clickrace_gateway_connections"/);
  assert.equal(find(rendered.base, 'PodDisruptionBudget', 'clickrace-gateway').spec.maxUnavailable, 1);
});

test('selectors select, ports resolve, config maps exist', () => {
  for (const [name, objs] of Object.entries(rendered)) {
    const pods = objs.filter((o) => o.kind === 'Deployment').map((d) => d.spec.template);
    for (const d of objs.filter((o) => o.kind === 'Deployment')) {
      assert.ok(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${key(d)} selects its pods`);
      for (const c of d.spec.template.spec.containers) {
        for (const e of c.envFrom || []) assert.ok(objs.some((o) => o.kind === 'ConfigMap' && o.metadata.name === e.configMapRef.name), `${name}: ${e.configMapRef.name}`);
      }
      for (const v of d.spec.template.spec.volumes || []) {
        if (v.configMap) assert.ok(objs.some((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap.name), `${name}: ${v.configMap.name}`);
      }
    }
    for (const o of objs.filter((x) => x.kind === 'Service' || x.kind === 'PodDisruptionBudget')) {
      const sel = o.kind === 'Service' ? o.spec.selector : o.spec.selector.matchLabels;
      const matched = pods.filter((t) => selects(sel, t.metadata.labels));
      assert.equal(matched.length, 1, `${name}: ${key(o)} selects exactly one workload`);
      if (o.kind === 'Service') {
        for (const p of o.spec.ports) {
          const cport = matched[0].spec.containers.flatMap((c) => c.ports).find((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort);
          assert.ok(cport, `${name}: ${key(o)} port ${p.targetPort}`);
        }
      }
    }
  }
});

test('load balancer: the ONE nginx routing file, its variables set, gateways found through the headless Service', () => {
  const cm = find(rendered.base, 'ConfigMap', 'clickrace-lb-template');
  assert.equal(cm.data['default.conf.template'], TEMPLATE, 'the ConfigMap is services/load-balancer/clickrace.conf.template itself');
  assert.match(TEMPLATE, /hash \$arg_id consistent;/);
  assert.match(TEMPLATE, /location = \/metrics \{ return 404; \}/);

  const dep = find(rendered.base, 'Deployment', 'clickrace-lb');
  const [c] = dep.spec.template.spec.containers;
  const mount = c.volumeMounts.find((m) => m.mountPath === '/etc/nginx/templates');
  const vol = dep.spec.template.spec.volumes.find((v) => v.name === mount.name);
  assert.equal(vol.configMap.name, cm.metadata.name);
  // `server ... resolve` in open-source nginx needs 1.27.3 or later.
  const version = c.image.match(/^nginx:(\d+)\.(\d+)(?:\.(\d+))?$/).slice(1).map((v) => Number(v || 0));
  const atLeast = (v, min) => v[0] !== min[0] ? v[0] > min[0] : v[1] !== min[1] ? v[1] > min[1] : v[2] >= min[2];
  assert.ok(atLeast(version, [1, 27, 3]), `nginx image ${c.image} >= 1.27.3`);

  // Every ${CLICKRACE_LB_*} of the template is set; $(VAR) references resolve to earlier variables.
  const env = envOf(c);
  for (const [, v] of TEMPLATE.matchAll(/\$\{(CLICKRACE_LB_\w+)\}/g)) assert.ok(env[v]?.value, `${v} set for nginx`);
  const names = c.env.map((e) => e.name);
  for (const e of c.env) {
    for (const [, ref] of (e.value || '').matchAll(/\$\((\w+)\)/g)) {
      assert.ok(names.indexOf(ref) >= 0 && names.indexOf(ref) < names.indexOf(e.name), `${e.name} uses $(${ref}) defined before it`);
    }
  }
  const up = env.CLICKRACE_LB_UPSTREAMS.value;
  assert.match(up, /^zone \w+ \d+k; resolver [\w.$()-]+ valid=\d+s ipv6=off; server [\w.$()-]+:8080 resolve max_fails=\d+ fail_timeout=\d+s;$/);
  const host = up.match(/server ([\w.$()-]+):8080/)[1];
  const svc = find(rendered.base, 'Service', 'clickrace-gateway');
  assert.equal(host.split('.')[0], svc.metadata.name);
  assert.equal(svc.spec.clusterIP, 'None', 'headless: DNS answers with the pods, not one virtual IP');
  assert.equal(svc.spec.ports[0].port, 8080);
  assert.equal(find(rendered.base, 'Service', 'clickrace').spec.type, 'LoadBalancer');
});

test('dev overlay: its own durable Redis, everything in the clickrace namespace', () => {
  const objs = rendered.dev;
  for (const o of objs) {
    if (o.kind === 'Namespace') assert.equal(o.metadata.name, 'clickrace');
    else assert.equal(o.metadata.namespace, 'clickrace', key(o));
  }
  const redis = find(objs, 'Deployment', 'redis');
  const args = redis.spec.template.spec.containers[0].args.join(' ');
  assert.match(args, /--appendonly yes/);
  assert.match(args, /--appendfsync always/);
  assert.equal(find(objs, 'PersistentVolumeClaim', 'redis-data').spec.resources.requests.storage, '1Gi');
  const url = find(objs, 'ConfigMap', 'clickrace-config').data.CLICKRACE_REDIS_URL;
  const [, host, port] = url.match(/^redis:\/\/([\w-]+):(\d+)\/\d+$/);
  const svc = find(objs, 'Service', host);
  assert.equal(String(svc.spec.ports[0].port), port);
  // The overlay's merge changed the ConfigMap, so its name (content hash) differs from the base's.
  assert.notEqual(find(objs, 'ConfigMap', 'clickrace-config').metadata.name, find(rendered.base, 'ConfigMap', 'clickrace-config').metadata.name);
});
