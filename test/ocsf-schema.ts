/**
 * A validator for OCSF events built from the real OCSF schema files (test/fixtures/ocsf-schema, vendored, or
 * OCSF_SCHEMA_DIR): classes and objects with `extends` and `$include` resolved, attributes completed from
 * the dictionary. It checks required attributes (profiles apply only when metadata.profiles names them),
 * unknown attributes, primitive types and their regexes, enums, and `at_least_one` / `just_one` constraints.
 */
import fs from 'node:fs';
import path from 'node:path';

export const OCSF_SCHEMA_DIR = path.resolve(
  process.env.OCSF_SCHEMA_DIR ?? path.join(process.cwd(), 'test/fixtures/ocsf-schema'),
);

interface Attr {
  type?: string;
  is_array?: boolean;
  requirement?: string;
  enum?: Record<string, unknown>;
  profile?: string | null;
}
interface Def {
  name: string;
  uid?: number;
  category?: string;
  attributes: Record<string, Attr>;
  constraints?: { at_least_one?: string[]; just_one?: string[] };
}
interface SchemaFile {
  name: string;
  uid?: number;
  category?: string;
  extends?: string;
  meta?: string;
  attributes: Record<string, Attr> & { $include?: string | string[] };
  constraints?: Def['constraints'];
}

const read = (file: string): SchemaFile =>
  JSON.parse(fs.readFileSync(path.join(OCSF_SCHEMA_DIR, file), 'utf8'));

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(path.join(OCSF_SCHEMA_DIR, dir), { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? filesUnder(path.join(dir, e.name))
        : e.name.endsWith('.json')
          ? [path.join(dir, e.name)]
          : [],
    );
}

export class OcsfSchema {
  private readonly dictionary: {
    attributes: Record<string, Attr>;
    types: { attributes: Record<string, { type?: string; regex?: string }> };
  };
  private readonly categories: Record<string, { uid: number }>;
  private readonly eventFiles = new Map<string, string>();
  private readonly cache = new Map<string, Def>();

  constructor() {
    this.dictionary = JSON.parse(fs.readFileSync(path.join(OCSF_SCHEMA_DIR, 'dictionary.json'), 'utf8'));
    this.categories = JSON.parse(
      fs.readFileSync(path.join(OCSF_SCHEMA_DIR, 'categories.json'), 'utf8'),
    ).attributes;
    for (const file of filesUnder('events')) this.eventFiles.set(read(file).name, file);
  }

  /** Attributes of a file with its `extends` chain and `$include`s merged, parents first. */
  private resolve(
    file: string,
    kind: 'events' | 'objects',
  ): { attrs: Record<string, Attr>; top: SchemaFile; category?: string } {
    const own = read(file);
    let attrs: Record<string, Attr> = {};
    let category = own.category;
    if (own.extends) {
      const parentFile = kind === 'events' ? this.eventFiles.get(own.extends) : `objects/${own.extends}.json`;
      if (!parentFile) throw new Error(`${file} extends unknown ${own.extends}`);
      const parent = this.resolve(parentFile, kind);
      attrs = parent.attrs;
      category ??= parent.category;
    }
    const { $include, ...declared } = own.attributes;
    for (const inc of [$include ?? []].flat()) {
      const included = read(inc);
      for (const [name, attr] of Object.entries(included.attributes) as Array<[string, Attr]>) {
        if (name === '$include') continue;
        const tagged: Attr = included.meta === 'profile' ? { profile: included.name, ...attr } : attr;
        attrs[name] = merge(attrs[name], tagged);
      }
    }
    for (const [name, attr] of Object.entries(declared)) attrs[name] = merge(attrs[name], attr);
    return { attrs, top: own, category };
  }

  private complete(
    name: string,
    r: { attrs: Record<string, Attr>; top: SchemaFile },
    uid?: number,
    constraintsFrom?: Def['constraints'],
  ): Def {
    const attributes: Record<string, Attr> = {};
    for (const [attr, local] of Object.entries(r.attrs)) {
      const dict = this.dictionary.attributes[attr];
      if (!dict) throw new Error(`${name}.${attr} is not in the dictionary`);
      attributes[attr] = merge(dict, local);
    }
    return { name, uid, attributes, constraints: constraintsFrom ?? r.top.constraints };
  }

  eventClass(name: string): Def & { uid: number } {
    const cached = this.cache.get(`class:${name}`);
    if (cached) return cached as Def & { uid: number };
    const file = this.eventFiles.get(name);
    if (!file) throw new Error(`no OCSF event class ${name}`);
    const r = this.resolve(file, 'events');
    const category = r.category && this.categories[r.category];
    if (!category || r.top.uid === undefined) throw new Error(`${name} has no category or uid`);
    const uid = category.uid * 1000 + r.top.uid;
    const def = this.complete(name, r, uid);
    // As the OCSF server compiles a class: class_uid and category_uid take the class's own values, and
    // type_uid the values class_uid * 100 + activity_id.
    const only = (key: string, values: number[]) => {
      def.attributes[key] = {
        ...def.attributes[key],
        enum: Object.fromEntries(values.map((v) => [String(v), {}])),
      };
    };
    only('class_uid', [uid]);
    only('category_uid', [category.uid]);
    only(
      'type_uid',
      Object.keys(def.attributes.activity_id?.enum ?? {}).map((a) => uid * 100 + Number(a)),
    );
    this.cache.set(`class:${name}`, def);
    return def as Def & { uid: number };
  }

  object(name: string): Def {
    const cached = this.cache.get(`object:${name}`);
    if (cached) return cached;
    const file = `objects/${name}.json`;
    const r = this.resolve(file, 'objects');
    // Constraints are inherited too (user's at_least_one comes from user itself, _entity's from _entity).
    let constraints = r.top.constraints;
    for (let f: SchemaFile | undefined = r.top; !constraints && f?.extends;) {
      f = read(`objects/${f.extends}.json`);
      constraints = f.constraints;
    }
    const def = this.complete(name, r, undefined, constraints);
    this.cache.set(`object:${name}`, def);
    return def;
  }

  private primitive(type: string): { base: string; regex?: RegExp } {
    let base = type;
    let regex: RegExp | undefined;
    for (let t: string | undefined = type; t;) {
      const def: { type?: string; regex?: string } | undefined = this.dictionary.types.attributes[t];
      if (!def) throw new Error(`unknown OCSF type ${t}`);
      if (!regex && def.regex) regex = new RegExp(def.regex);
      base = t;
      t = def.type;
    }
    return { base, regex };
  }

  /** Problems with an event of `className`, as `path: problem` lines; empty when it is valid. */
  validate(className: string, event: Record<string, unknown>): string[] {
    const profiles = ((event.metadata as { profiles?: string[] } | undefined)?.profiles ?? []) as string[];
    const problems: string[] = [];
    this.check(this.eventClass(className), event, className, profiles, problems);
    return problems;
  }

  private check(
    def: Def,
    value: Record<string, unknown>,
    at: string,
    profiles: string[],
    problems: string[],
  ) {
    const applies = (a: Attr) => !a.profile || profiles.includes(a.profile);
    for (const [name, attr] of Object.entries(def.attributes)) {
      if (
        attr.requirement === 'required' &&
        applies(attr) &&
        (value[name] === undefined || value[name] === null)
      )
        problems.push(`${at}.${name}: required`);
    }
    const present = (names: string[]) => names.filter((n) => value[n] !== undefined && value[n] !== null);
    if (def.constraints?.at_least_one && present(def.constraints.at_least_one).length === 0)
      problems.push(`${at}: needs at least one of ${def.constraints.at_least_one.join(', ')}`);
    if (def.constraints?.just_one && present(def.constraints.just_one).length !== 1)
      problems.push(`${at}: needs exactly one of ${def.constraints.just_one.join(', ')}`);
    for (const [name, v] of Object.entries(value)) {
      const attr = def.attributes[name];
      if (!attr) {
        problems.push(`${at}.${name}: not an attribute of ${def.name}`);
        continue;
      }
      if (!applies(attr)) problems.push(`${at}.${name}: belongs to the profile ${attr.profile}, not applied`);
      if (v === null || v === undefined) continue;
      if (attr.is_array) {
        if (!Array.isArray(v)) problems.push(`${at}.${name}: must be an array`);
        else v.forEach((item, i) => this.checkValue(attr, item, `${at}.${name}[${i}]`, profiles, problems));
      } else this.checkValue(attr, v, `${at}.${name}`, profiles, problems);
    }
  }

  private checkValue(attr: Attr, v: unknown, at: string, profiles: string[], problems: string[]) {
    const type = attr.type ?? 'object';
    if (attr.enum && !(String(v) in attr.enum))
      problems.push(`${at}: ${JSON.stringify(v)} is not in its enum`);
    if (type === 'object' || type === 'json_t') return; // free-form: unmapped, data
    if (!type.endsWith('_t')) {
      if (typeof v !== 'object' || Array.isArray(v) || v === null)
        problems.push(`${at}: must be a ${type} object`);
      else this.check(this.object(type), v as Record<string, unknown>, at, profiles, problems);
      return;
    }
    const { base, regex } = this.primitive(type);
    const ok =
      base === 'string_t'
        ? typeof v === 'string' && (!regex || regex.test(v))
        : base === 'integer_t' || base === 'long_t'
          ? Number.isInteger(v)
          : base === 'float_t'
            ? typeof v === 'number'
            : base === 'boolean_t'
              ? typeof v === 'boolean'
              : true;
    if (!ok) problems.push(`${at}: ${JSON.stringify(v)} is not a valid ${type}`);
  }
}

function merge(base: Attr | undefined, over: Attr): Attr {
  if (!base) return over;
  const merged: Attr = { ...base, ...over };
  if (base.enum || over.enum) merged.enum = { ...base.enum, ...over.enum };
  return merged;
}
