import { useId } from 'preact/hooks';
import { Checkbox, Field } from './ui.js';

/**
 * A form generated from a connector's or destination's JSON Schema: labels from `title` (or the
 * property name), help from `description`, inputs by type, and each API error shown next to
 * the field its JSON Pointer names. Secrets are password fields that never show a stored
 * value: an existing secret is only named as set.
 */

export interface Schema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
  format?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  oneOf?: Schema[];
  anyOf?: Schema[];
  const?: unknown;
}

export type FormValues = Record<string, unknown>;

const ACRONYMS: Record<string, string> = { url: 'URL', api: 'API', id: 'ID', ids: 'IDs', mfa: 'MFA', mb: 'MB', jwt: 'JWT', oauth: 'OAuth', aws: 'AWS', arn: 'ARN', pem: 'PEM', http: 'HTTP', https: 'HTTPS', ssl: 'SSL', tls: 'TLS', kms: 'KMS', s3: 'S3' };

/** `base_url` → "Base URL": the schema's title when it has one. */
export function labelOf(name: string, schema: Schema): string {
  if (schema.title) return schema.title;
  const words = name.split(/[_\s]+/).filter(Boolean).map((w) => ACRONYMS[w.toLowerCase()] ?? w.toLowerCase());
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function typeOf(schema: Schema): string {
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  if (t) return t;
  if (schema.enum) return 'string';
  return 'json';
}

/** The schema's fields filled with their defaults (what a new connection starts from). */
export function defaults(schema: Schema | undefined): FormValues {
  const values: FormValues = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) if (prop.default !== undefined) values[name] = prop.default;
  return values;
}

/** Drops empty optional fields, so that the API applies its own defaults. */
export function compact(values: FormValues): FormValues {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)));
}

export function SchemaFields(props: {
  schema: Schema | undefined;
  values: FormValues;
  onChange: (values: FormValues) => void;
  /** The JSON Pointer of this object in the request body (e.g. `/config`). */
  pointer: string;
  errors?: { pointer: string; message: string }[];
  secret?: boolean;
  /** Secret names already stored (editing): shown as set, left unchanged when blank. */
  storedSecrets?: string[];
}) {
  const properties = Object.entries(props.schema?.properties ?? {});
  if (properties.length === 0) return <p class="muted">No fields.</p>;
  const required = new Set(props.schema?.required ?? []);
  const errorAt = (name: string) => props.errors?.filter((e) => e.pointer === `${props.pointer}/${name}` || e.pointer.startsWith(`${props.pointer}/${name}/`)).map((e) => e.message).join('; ') || undefined;
  const set = (name: string, value: unknown) => props.onChange({ ...props.values, [name]: value });
  return (
    <>
      {properties.map(([name, schema]) => (
        <SchemaField key={name} name={name} schema={schema} value={props.values[name]} onChange={(v) => set(name, v)}
          required={required.has(name)} error={errorAt(name)} secret={props.secret} stored={props.storedSecrets?.includes(name)} />
      ))}
    </>
  );
}

function SchemaField(props: { name: string; schema: Schema; value: unknown; onChange: (value: unknown) => void; required: boolean; error?: string; secret?: boolean; stored?: boolean }) {
  const { schema, name } = props;
  const label = labelOf(name, schema);
  const type = typeOf(schema);
  const listId = useId();
  const hint = props.stored
    ? <>{schema.description ? `${schema.description} ` : ''}A value is stored; leave this empty to keep it.</>
    : schema.description;
  if (props.secret) {
    return (
      <Field label={label} hint={hint} error={props.error} required={props.required && !props.stored}>
        {(id, describedBy) => (
          <input id={id} type="password" autoComplete="new-password" value={typeof props.value === 'string' ? props.value : ''}
            placeholder={props.stored ? '•••••••• (stored)' : ''} aria-describedby={describedBy} aria-invalid={props.error ? 'true' : undefined}
            onInput={(e) => props.onChange((e.currentTarget as HTMLInputElement).value)} />
        )}
      </Field>
    );
  }
  if (type === 'boolean') {
    return (
      <div class={`field${props.error ? ' has-error' : ''}`}>
        <Checkbox label={label} checked={props.value === true} onChange={props.onChange} hint={schema.description} />
        {props.error && <p class="field-error">{props.error}</p>}
      </div>
    );
  }
  const choices = schema.enum;
  if (choices) {
    return (
      <Field label={label} hint={hint} error={props.error} required={props.required}>
        {(id, describedBy) => (
          <select id={id} value={props.value === undefined ? '' : String(props.value)} aria-describedby={describedBy} aria-invalid={props.error ? 'true' : undefined}
            onChange={(e) => { const v = (e.currentTarget as HTMLSelectElement).value; props.onChange(v === '' ? undefined : choices.find((x) => String(x) === v)); }}>
            {!props.required && <option value="">(default)</option>}
            {choices.map((option) => <option key={String(option)} value={String(option)}>{String(option)}</option>)}
          </select>
        )}
      </Field>
    );
  }
  if (type === 'array' && schema.items?.enum) {
    const chosen = Array.isArray(props.value) ? props.value as unknown[] : [];
    return (
      <fieldset class={`field${props.error ? ' has-error' : ''}`}>
        <legend>{label}</legend>
        {schema.description && <p class="hint">{schema.description}</p>}
        <div class="choices">
          {schema.items.enum.map((option) => (
            <Checkbox key={String(option)} label={String(option)} checked={chosen.includes(option)}
              onChange={(on) => props.onChange(on ? [...chosen, option] : chosen.filter((x) => x !== option))} />
          ))}
        </div>
        {props.error && <p class="field-error">{props.error}</p>}
      </fieldset>
    );
  }
  if (type === 'array' && typeOf(schema.items ?? {}) === 'string') {
    const text = Array.isArray(props.value) ? (props.value as string[]).join('\n') : '';
    return (
      <Field label={label} hint={<>{schema.description} One per line.</>} error={props.error} required={props.required}>
        {(id, describedBy) => (
          <textarea id={id} rows={3} value={text} aria-describedby={describedBy} aria-invalid={props.error ? 'true' : undefined}
            onInput={(e) => { const lines = (e.currentTarget as HTMLTextAreaElement).value.split('\n').map((l) => l.trim()).filter(Boolean); props.onChange(lines.length ? lines : undefined); }} />
        )}
      </Field>
    );
  }
  if (type === 'integer' || type === 'number') {
    return (
      <Field label={label} hint={hint} error={props.error} required={props.required}>
        {(id, describedBy) => (
          <input id={id} type="number" inputMode="numeric" min={schema.minimum} max={schema.maximum} step={type === 'integer' ? 1 : 'any'}
            value={props.value === undefined ? '' : String(props.value)} aria-describedby={describedBy} aria-invalid={props.error ? 'true' : undefined}
            onInput={(e) => { const raw = (e.currentTarget as HTMLInputElement).value; props.onChange(raw === '' ? undefined : Number(raw)); }} />
        )}
      </Field>
    );
  }
  if (type === 'string') {
    const inputType = schema.format === 'uri' || schema.format === 'url' ? 'url' : schema.format === 'email' ? 'email' : 'text';
    const examples = (schema as { examples?: unknown[] }).examples;
    return (
      <Field label={label} hint={hint} error={props.error} required={props.required}>
        {(id, describedBy) => (
          <>
            <input id={id} type={inputType} value={typeof props.value === 'string' ? props.value : ''} aria-describedby={describedBy} aria-invalid={props.error ? 'true' : undefined}
              list={examples ? listId : undefined} spellcheck={false} autoComplete="off"
              onInput={(e) => { const v = (e.currentTarget as HTMLInputElement).value; props.onChange(v === '' ? undefined : v); }} />
            {examples && <datalist id={listId}>{examples.map((x) => <option key={String(x)} value={String(x)} />)}</datalist>}
          </>
        )}
      </Field>
    );
  }
  // Anything richer (objects, mixed arrays): JSON text, checked as it is typed.
  return <JsonField label={label} hint={schema.description} value={props.value} onChange={props.onChange} error={props.error} required={props.required} />;
}

function JsonField(props: { label: string; hint?: string; value: unknown; onChange: (value: unknown) => void; error?: string; required: boolean }) {
  const text = props.value === undefined ? '' : JSON.stringify(props.value, null, 2);
  return (
    <Field label={props.label} hint={<>{props.hint} As JSON.</>} error={props.error} required={props.required}>
      {(id, describedBy) => (
        <textarea id={id} rows={4} class="mono" defaultValue={text} aria-describedby={describedBy} aria-invalid={props.error ? 'true' : undefined}
          onChange={(e) => {
            const raw = (e.currentTarget as HTMLTextAreaElement).value.trim();
            if (raw === '') { props.onChange(undefined); return; }
            try { props.onChange(JSON.parse(raw)); (e.currentTarget as HTMLTextAreaElement).setCustomValidity(''); } catch { (e.currentTarget as HTMLTextAreaElement).setCustomValidity('Not valid JSON'); }
          }} />
      )}
    </Field>
  );
}
