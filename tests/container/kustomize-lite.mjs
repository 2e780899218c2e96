// A small renderer for the part of kustomize that deploy/kubernetes uses, so the manifests render
// and validate offline where `kubectl kustomize` is absent (no Debian package ships it, and no
// registry but Debian's and npm's is reachable here). Where kubectl is present, the test renders
// with both and requires the same objects, which keeps this one honest.
// Supported: resources (files and kustomization folders), components, namespace,
// configMapGenerator (literals, files; behavior create/merge/replace; the content-hash name
// suffix and the references to it), JSON 6902 patches with a target. Anything else is an error,
// never silently ignored. File loads outside a kustomization's folder are allowed (the
// equivalent of --load-restrictor=LoadRestrictionsNone).
import { createHash } from 'node:crypto';
import { readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'components', 'namespace', 'configMapGenerator', 'patches']);
// Kinds that have no namespace (those a clickrace manifest could name).
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PersistentVolume', 'StorageClass', 'PriorityClass', 'IngressClass']);

const GENERATED = Symbol('generated');  // marks generated objects until their names get the hash

function loadYamlDocs(file) {
  return YAML.parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS({ maxAliasCount: 1000 });
  }).filter((o) => o != null);
}

function loadKustomization(dir) {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const f = path.join(dir, name);
    if (existsSync(f)) {
      const k = YAML.parse(readFileSync(f, 'utf8'));
      for (const key of Object.keys(k)) {
        if (!KNOWN.has(key)) throw new Error(`${f}: kustomize-lite does not support '${key}'`);
      }
      return k;
    }
  }
  throw new Error(`no kustomization in ${dir}`);
}

// Go's encoding/json escapes these; kustomize hashes Go's encoding.
function goJson(value) {
  const sort = (v) => (Array.isArray(v) ? v.map(sort) : v && typeof v === 'object'
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(value)).replace(/[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// kustomize api/hasher: sha256 of the encoded {kind, name, data}, first 10 hex digits, with the
// letters and digits that could spell words replaced. The name is always empty there (kustomize
// 5.x looks up "metadata/name" as one field name, which no object has), so it is here too.
export function configMapHash(cm) {
  const m = { kind: 'ConfigMap', name: '', data: cm.data || {} };
  if (cm.binaryData && Object.keys(cm.binaryData).length) m.binaryData = cm.binaryData;
  if (cm.immutable) m.immutable = true;
  const hex = createHash('sha256').update(goJson(m)).digest('hex').slice(0, 10);
  return hex.replace(/[013ae]/g, (c) => ({ 0: 'g', 1: 'h', 3: 'k', a: 'm', e: 't' })[c]);
}

function generateConfigMap(dir, gen) {
  for (const key of Object.keys(gen)) {
    if (!['name', 'behavior', 'literals', 'files'].includes(key)) {
      throw new Error(`configMapGenerator ${gen.name}: kustomize-lite does not support '${key}'`);
    }
  }
  const data = {};
  for (const lit of gen.literals || []) {
    const i = lit.indexOf('=');
    if (i <= 0) throw new Error(`configMapGenerator ${gen.name}: bad literal '${lit}'`);
    data[lit.slice(0, i)] = lit.slice(i + 1);
  }
  for (const entry of gen.files || []) {
    const [key, file] = entry.includes('=') ? entry.split('=', 2) : [path.basename(entry), entry];
    data[key] = readFileSync(path.resolve(dir, file), 'utf8');
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data };
}

const same = (a, b) => a.kind === b.kind && a.metadata.name === b.metadata.name;

function applyJson6902(obj, ops) {
  for (const op of ops) {
    if (op.op !== 'add' && op.op !== 'replace') throw new Error(`JSON patch op '${op.op}' not supported`);
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let cur = obj;
    for (const p of parts.slice(0, -1)) {
      if (cur[p] === undefined) throw new Error(`JSON patch path ${op.path}: '${p}' missing`);
      cur = cur[p];
    }
    const last = parts[parts.length - 1];
    if (Array.isArray(cur)) {
      if (last === '-') cur.push(op.value);
      else cur.splice(Number(last), op.op === 'replace' ? 1 : 0, op.value);
    } else {
      if (op.op === 'replace' && !(last in cur)) throw new Error(`JSON patch replace ${op.path}: missing`);
      cur[last] = op.value;
    }
  }
}

function matches(obj, target) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  return (target.kind === undefined || target.kind === obj.kind)
    && (target.name === undefined || target.name === obj.metadata.name)
    && (target.group === undefined || target.group === group)
    && (target.version === undefined || target.version === version);
}

// Builds one kustomization (or component) on top of `acc`; generated objects stay unsuffixed and
// are marked, so an overlay can still merge into them by name.
function build(dir, acc = []) {
  const k = loadKustomization(dir);
  for (const r of k.resources || []) {
    const p = path.resolve(dir, r);
    if (statSync(p).isDirectory()) acc.push(...build(p, []));
    else acc.push(...loadYamlDocs(p));
  }
  for (const gen of k.configMapGenerator || []) {
    const cm = generateConfigMap(dir, gen);
    const behavior = gen.behavior || 'create';
    const i = acc.findIndex((o) => same(o, cm));
    if (behavior === 'create') {
      if (i >= 0) throw new Error(`configMapGenerator ${gen.name}: already exists (use behavior: merge)`);
      acc.push(Object.assign(cm, { [GENERATED]: true }));
    } else {
      if (i < 0 || !acc[i][GENERATED]) throw new Error(`configMapGenerator ${gen.name}: nothing to ${behavior}`);
      acc[i].data = behavior === 'merge' ? { ...acc[i].data, ...cm.data } : cm.data;
    }
  }
  for (const c of k.components || []) build(path.resolve(dir, c), acc);
  for (const patch of k.patches || []) {
    if (!patch.target || typeof patch.patch !== 'string') throw new Error('only inline JSON 6902 patches with a target');
    const ops = YAML.parse(patch.patch);
    const hits = acc.filter((o) => matches(o, patch.target));
    if (!hits.length) throw new Error(`patch target ${JSON.stringify(patch.target)} matches nothing`);
    for (const o of hits) applyJson6902(o, ops);
  }
  if (k.namespace) {
    for (const o of acc) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return acc;
}
// Every place a pod spec names a ConfigMap.
function configMapRefs(podSpec) {
  const refs = [];
  for (const c of [...(podSpec.containers || []), ...(podSpec.initContainers || [])]) {
    for (const e of c.envFrom || []) if (e.configMapRef) refs.push(e.configMapRef);
    for (const e of c.env || []) if (e.valueFrom?.configMapKeyRef) refs.push(e.valueFrom.configMapKeyRef);
  }
  for (const v of podSpec.volumes || []) {
    if (v.configMap) refs.push(v.configMap);
    for (const s of v.projected?.sources || []) if (s.configMap) refs.push(s.configMap);
  }
  return refs;
}

// Renders the kustomization in `dir`: a list of plain objects, as `kubectl kustomize` prints them.
export function kustomize(dir) {
  const objs = build(path.resolve(dir));
  const renamed = new Map();
  for (const o of objs) {
    if (!o[GENERATED]) continue;
    const name = `${o.metadata.name}-${configMapHash(o)}`;
    renamed.set(`${o.metadata.namespace || ''}/${o.metadata.name}`, name);
    o.metadata.name = name;
  }
  for (const o of objs) {
    const spec = o.spec?.template?.spec || o.spec?.jobTemplate?.spec?.template?.spec;
    if (!spec) continue;
    for (const ref of configMapRefs(spec)) {
      const to = renamed.get(`${o.metadata.namespace || ''}/${ref.name}`);
      if (to) ref.name = to;
    }
  }
  return objs.map((o) => JSON.parse(JSON.stringify(o)));
}
