// Schema checks of Kubernetes objects, offline, with the npm package kubernetes-models (the
// Kubernetes OpenAPI schemas compiled to validators, pinned in tests/package.json):
// - validate(): the object against its kind's schema (types, enums, required fields);
// - unknownFields(): every field name checked against the kind's type declarations. The OpenAPI
//   schemas allow any extra field (no additionalProperties), so a misspelt `readinesProbe` would
//   pass them while the API server drops or refuses it; the package's .d.ts files list the fields of
//   every type, which is what this walks.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const MODELS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../node_modules');

function modelPath(obj) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [null, obj.apiVersion];
  return path.join(MODELS, 'kubernetes-models', ...(group ? [group, version] : [version]), obj.kind);
}

export async function validate(obj) {
  const file = `${modelPath(obj)}.js`;
  if (!existsSync(file)) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  const mod = await import(file);
  const Model = mod[obj.kind];
  new Model(obj).validate();  // throws with the schema errors
}

// ---- field names from the .d.ts files --------------------------------------------------------
const interfaces = new Map();  // d.ts file -> {field -> type}

function parseType(text, imports) {
  text = text.trim();
  let m = text.match(/^Array<(.+)>$/s);
  if (m) return { array: parseType(m[1], imports) };
  m = text.match(/^\{\s*\[key: string\]: (.+?);\s*\}$/s);
  if (m) return { map: parseType(m[1], imports) };
  if (imports.has(text)) return { ref: imports.get(text) };
  return { leaf: text };
}

function fieldsOf(file) {
  if (interfaces.has(file)) return interfaces.get(file);
  const src = readFileSync(file, 'utf8');
  const imports = new Map();
  for (const m of src.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    const spec = m[2].replace(/\.js$/, '');
    imports.set(m[1], spec.startsWith('.') ? path.resolve(path.dirname(file), `${spec}.d.ts`) : path.join(MODELS, `${spec}.d.ts`));
  }
  const body = src.match(/^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m);
  let fields = null;  // a type alias (IntOrString, Quantity, Time...) has no fields: a leaf
  if (body) {
    fields = {};
    const lines = body[1].replace(/^\s*\/\*\*[\s\S]*?\*\/\n/gm, '');
    for (const m of lines.matchAll(/^ {4}"([^"]+)"\??: ((?:\{\n[\s\S]*?\n {4}\})|[^\n]+);$/gm)) {
      fields[m[1]] = parseType(m[2], imports);
    }
  }
  interfaces.set(file, fields);
  return fields;
}

function walk(value, type, where, out) {
  if (value == null) return;
  if (type.array) { if (Array.isArray(value)) value.forEach((v, i) => walk(v, type.array, `${where}[${i}]`, out)); return; }
  if (type.map) { if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, type.map, `${where}.${k}`, out); return; }
  if (!type.ref) return;
  const fields = fieldsOf(type.ref);
  if (!fields || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (!(k in fields)) out.push(`${where}.${k}`);
    else walk(v, fields[k], `${where}.${k}`, out);
  }
}

// The field paths of `obj` that its kind does not have.
export function unknownFields(obj) {
  const out = [];
  walk(obj, { ref: `${modelPath(obj)}.d.ts` }, `${obj.kind}/${obj.metadata?.name}`, out);
  return out;
}
