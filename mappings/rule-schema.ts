/**
 * JSON Schema (draft 2020-12) of a mapping document: the rule language's contract.
 *
 * Unions are written as `if`/`then`/`else` chains and "exactly one of these keys" as `oneOf`
 * over `required`, so that a validator reports the one branch the author meant instead of
 * every alternative. `x-message` is an annotation (ignored by validators) holding the text
 * shown when the keyword next to it fails; mappings/validation.ts reads it.
 *
 * The schema is self-contained (`$defs` only, no external `$ref`) so it can be embedded in
 * the OpenAPI document as it is.
 */
import { COMPARISON_OPS, FIELD_OPS } from './types.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const exactlyOneOf = (keys: readonly string[]): Schema[] => keys.map((key) => ({ required: [key] }));

const SCALAR_TYPES = ['string', 'number', 'boolean', 'null'];

const $defs: Record<string, Schema> = {
  Rule: {
    type: 'object',
    description:
      'One rule reads one dataset and produces one evidence item. Exactly one of `question_match` and `question_id` says where the evidence goes.',
    required: ['id', 'dataset', 'control_ref', 'title'],
    additionalProperties: false,
    properties: {
      id: ref('Slug'),
      description: { type: 'string', maxLength: 2000, description: 'What the rule checks and why; shown to admins, not delivered.' },
      enabled: { type: 'boolean', default: true, description: 'A disabled rule is kept in the document but produces no evidence.' },
      dataset: {
        type: 'string',
        pattern: '^[a-z0-9_-]+(\\.[a-z0-9_-]+)+$',
        maxLength: 100,
        'x-message': 'must be a dataset name such as "okta.users" (connector, dot, dataset)',
        description: 'The dataset snapshot the rule reads, e.g. `okta.users`. Its records form the array the JSONPaths start from.',
      },
      control_ref: { type: 'string', minLength: 1, maxLength: 200, description: 'Control reference in the GRC platform, e.g. "Access Control".' },
      question_match: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'Text that identifies the question within the control, e.g. "MFA admin" (push/match delivery).',
      },
      question_id: { type: 'string', minLength: 1, maxLength: 200, description: 'The id of one question, when the destination should not match by text.' },
      title: {
        type: 'string',
        minLength: 1,
        maxLength: 300,
        description:
          'Title of the evidence item; a template. `{{name}}` is replaced by a value: result, rule_id, dataset, control_ref, total (records in the dataset), selected (chosen by select/where), excluded (muted), count (under test: selected minus excluded), matched (satisfying every per-record assertion), failing (count minus matched), params.<name>, payload.<entry> (count and value entries). Nothing else is evaluated.',
      },
      source: { type: 'string', minLength: 1, maxLength: 200, description: 'Source label of the evidence. Default: "Evidence Hub: <dataset>".' },
      select: {
        ...ref('JsonPath'),
        default: '$[*]',
        description: 'JSONPath over the dataset\'s record array choosing the records under test. Default `$[*]` (every record).',
      },
      where: { ...ref('Predicate'), description: 'Optional predicate narrowing the selected records further.' },
      mode: {
        enum: ['assert', 'info'],
        default: 'assert',
        description: '`assert`: the result is pass or fail from `pass_when`. `info`: the result is always info (the payload is the evidence).',
      },
      fresh_for: {
        type: 'string', pattern: '^\\d{1,6}(s|m|h|d)$', 'x-message': 'must be a duration such as 36h or 8d',
        description: 'How long this rule’s result stays fresh before its check reads `stale`; overrides the job’s fresh_for.',
      },
      when_empty: {
        enum: ['pass', 'fail', 'info', 'error'],
        description: 'The result when `select` matches no record (records a `where` filters out do not count): e.g. pass for "no unresolved alert", error for "an empty credential report cannot be right". Without it the assertions decide as usual. A dataset that is missing or unreadable is an error regardless.',
      },
      pass_when: {
        type: 'array',
        minItems: 1,
        maxItems: 50,
        items: ref('Assertion'),
        description: 'Assertions that must all hold for the result to be pass. Required unless mode is info.',
      },
      payload: {
        type: 'object',
        maxProperties: 50,
        propertyNames: {
          pattern: '^[a-z][a-z0-9_]{0,63}$',
          'x-message': 'must be a payload entry name: lowercase letters, digits and underscores, starting with a letter',
        },
        additionalProperties: ref('PayloadEntry'),
        description:
          'Named projections of the records under test into the evidence payload. The key `_evaluation` is reserved for the result details the engine adds.',
      },
      id_field: {
        ...ref('FieldPath'),
        default: 'id',
        description: 'Field identifying a record: exclusions name records by it and failing records are reported by it. Default `id`.',
      },
      label_field: { ...ref('FieldPath'), description: 'Field shown next to the id of a failing or excluded record, e.g. `login`.' },
      exclusions: {
        type: 'array',
        maxItems: 10000,
        items: ref('Exclusion'),
        description: 'Records muted by id (see id_field), each with the reason; muted records are listed in the payload.',
      },
      params: {
        type: 'object',
        maxProperties: 50,
        propertyNames: ref('ParamName'),
        additionalProperties: ref('ParamValue'),
        description:
          'Named settings with their defaults, e.g. `max_inactive_days: 90`. Referenced as `{param: name}` in operands, `params.name` in filters and `{{params.name}}` in titles, so a pack can be configured by overriding params only.',
      },
      references: {
        type: 'object',
        maxProperties: 20,
        propertyNames: {
          pattern: '^[a-z0-9_]{1,40}$',
          'x-message': 'must be a framework key such as "soc2" or "cis_aws"',
        },
        additionalProperties: {
          if: { type: 'array' },
          then: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 100 } },
          else: { type: 'string', minLength: 1, maxLength: 100, 'x-message': 'must be a string or a list of strings' },
        },
        description: 'Framework references, e.g. `{soc2: ["CC6.1"], cis_aws: "1.5"}`; copied to the evidence item.',
      },
    },
    oneOf: exactlyOneOf(['question_match', 'question_id']),
    if: { required: ['mode'], properties: { mode: { const: 'info' } } },
    else: { required: ['pass_when'] },
  },

  Assertion: {
    type: 'object',
    description:
      'One condition on the records under test. `all`: every record matches. `none`: no record matches. `any`: at least one record matches. `count`: the number of results compares to a value.',
    additionalProperties: false,
    properties: {
      description: { type: 'string', maxLength: 500, description: 'Human wording of the assertion, repeated in the payload.' },
      all: ref('Predicate'),
      none: ref('Predicate'),
      any: ref('Predicate'),
      count: ref('CountAssertion'),
    },
    oneOf: exactlyOneOf(['all', 'none', 'any', 'count']),
  },

  CountAssertion: {
    type: 'object',
    description:
      'Counts the results of `path` (a JSONPath over the records under test), or the records matching `where`, or else the records under test, and compares the count with `value`.',
    required: ['op', 'value'],
    additionalProperties: false,
    properties: {
      path: ref('JsonPath'),
      where: ref('Predicate'),
      op: { enum: [...COMPARISON_OPS], description: 'eq, ne, gt, gte, lt or lte.' },
      value: {
        if: { type: 'object' },
        then: ref('ParamRef'),
        else: { type: 'integer', minimum: 0, 'x-message': 'must be a non-negative integer or {param: name}' },
      },
    },
    not: { required: ['path', 'where'] },
    'x-message': 'must use either path or where, not both',
  },

  Predicate: {
    description:
      'A test of one record: a JSONPath filter string `$[?(<expression>)]` (the expression sees the record as `@`, and `params`), or a structured predicate: `{field, <op>: operand, as?}`, `{all_of: [...]}`, `{any_of: [...]}` or `{not: predicate}`.',
    if: { type: 'string' },
    then: ref('FilterPath'),
    else: {
      type: 'object',
      'x-message': 'must be a JSONPath filter "$[?(...)]" or a predicate object ({field, <op>}, all_of, any_of or not)',
      if: { required: ['all_of'] },
      then: ref('AllOf'),
      else: { if: { required: ['any_of'] }, then: ref('AnyOf'), else: { if: { required: ['not'] }, then: ref('Not'), else: ref('FieldPredicate') } },
    },
  },
  AllOf: {
    type: 'object',
    additionalProperties: false,
    properties: { all_of: { type: 'array', minItems: 1, maxItems: 50, items: ref('Predicate') } },
    description: 'Matches when every listed predicate matches.',
  },
  AnyOf: {
    type: 'object',
    additionalProperties: false,
    properties: { any_of: { type: 'array', minItems: 1, maxItems: 50, items: ref('Predicate') } },
    description: 'Matches when at least one listed predicate matches.',
  },
  Not: {
    type: 'object',
    additionalProperties: false,
    properties: { not: ref('Predicate') },
    description: 'Matches when the predicate does not.',
  },
  FieldPredicate: {
    type: 'object',
    description:
      'Compares one field of the record (a dotted path such as `mfa_factors.length`) with exactly one operator. A missing or null field never satisfies an ordering, age or contains test; `eq: null` and `exists: false` match it.',
    required: ['field'],
    additionalProperties: false,
    properties: {
      field: ref('FieldPath'),
      as: {
        enum: ['auto', 'number', 'string', 'date', 'version'],
        default: 'auto',
        description:
          'How both sides are read. auto: numbers with numbers, strings with strings. number: numeric strings count. date: ISO-8601 timestamps. version: dotted versions compared part by part ("14.2.1" > "14.2" > "9.9").',
      },
      eq: ref('Operand'),
      ne: ref('Operand'),
      gt: ref('Operand'),
      gte: ref('Operand'),
      lt: ref('Operand'),
      lte: ref('Operand'),
      in: ref('ListOperand'),
      not_in: ref('ListOperand'),
      contains: { ...ref('Operand'), description: 'The field (a list or a string) contains the value.' },
      exists: { type: 'boolean', description: 'true: the field is present and not null; false: it is missing or null.' },
      older_than_days: { ...ref('DaysOperand'), description: 'The field is a timestamp more than N days before the evaluation time.' },
      within_days: { ...ref('DaysOperand'), description: 'The field is a timestamp at most N days before the evaluation time (or after it).' },
    },
    oneOf: exactlyOneOf(FIELD_OPS),
  },

  Operand: {
    description: 'A literal, `{param: name}` (a rule parameter) or `{field: path}` (another field of the same record).',
    if: { type: 'object' },
    then: {
      type: 'object',
      additionalProperties: false,
      properties: { param: ref('ParamName'), field: ref('FieldPath') },
      oneOf: exactlyOneOf(['param', 'field']),
    },
    else: { type: SCALAR_TYPES, 'x-message': 'must be a string, number, boolean, null, {param: name} or {field: path}' },
  },
  ListOperand: {
    description: 'A list of literals or `{param: name}` naming a list parameter.',
    if: { type: 'object' },
    then: ref('ParamRef'),
    else: { type: 'array', maxItems: 1000, items: { type: SCALAR_TYPES }, 'x-message': 'must be a list of values or {param: name}' },
  },
  DaysOperand: {
    if: { type: 'object' },
    then: ref('ParamRef'),
    else: { type: 'number', minimum: 0, 'x-message': 'must be a number of days or {param: name}' },
  },
  ParamRef: {
    type: 'object',
    required: ['param'],
    additionalProperties: false,
    properties: { param: ref('ParamName') },
    description: 'The value of a rule parameter.',
  },

  PayloadEntry: {
    description:
      'A JSONPath string (its results, as a list capped at the global limit), `{count: path}` (the number of results), `{value: path}` (the first result or null) or `{list: path, fields?, limit?}` (`{items, total, truncated}`, each item reduced to `fields`). Paths start at the array of records under test.',
    if: { type: 'string' },
    then: ref('JsonPath'),
    else: {
      type: 'object',
      'x-message': 'must be a JSONPath string or an object with count, value or list',
      additionalProperties: false,
      properties: {
        count: ref('JsonPath'),
        value: ref('JsonPath'),
        list: ref('JsonPath'),
        fields: { type: 'array', minItems: 1, maxItems: 50, items: ref('FieldPath'), description: 'Fields kept from each listed item.' },
        limit: { type: 'integer', minimum: 1, maximum: 10000, description: 'Items kept (never more than the global cap).' },
      },
      oneOf: exactlyOneOf(['count', 'value', 'list']),
      dependentRequired: { fields: ['list'], limit: ['list'] },
    },
  },

  Exclusion: {
    type: 'object',
    required: ['id', 'reason'],
    additionalProperties: false,
    properties: {
      id: { type: ['string', 'integer'], description: 'The id_field value of the muted record.' },
      reason: { type: 'string', minLength: 1, maxLength: 500, description: 'Why the record is muted; reported in the payload.' },
      expires: {
        type: 'string',
        pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2}))?$',
        'x-message': 'must be a date (YYYY-MM-DD, valid through that day, UTC) or a date-time with a time zone',
        description: 'When the exclusion stops muting. Expired exclusions are listed in the payload and mute nothing.',
      },
    },
  },

  JsonPath: {
    type: 'string',
    minLength: 1,
    maxLength: 2000,
    pattern: '^\\$',
    'x-message': 'must be a JSONPath starting with "$"',
    description: 'A JSONPath (jsonpath-plus syntax, filters evaluated safely; no function calls except a few string/list tests).',
  },
  FilterPath: {
    type: 'string',
    maxLength: 2000,
    pattern: '^\\$\\[\\?\\(.*\\)\\]$',
    'x-message': 'must be a JSONPath filter of the form "$[?(<expression>)]"',
    description: 'A JSONPath filter over the records, `$[?(<expression>)]`; a record matches when the expression is truthy for it.',
  },
  FieldPath: {
    type: 'string',
    minLength: 1,
    maxLength: 200,
    pattern: '^[^.]+(\\.[^.]+)*$',
    'x-message': 'must be a field name or a dotted path such as "mfa_factors.length"',
  },
  ParamName: {
    type: 'string',
    pattern: '^[a-z][a-z0-9_]{0,63}$',
    'x-message': 'must be a parameter name: lowercase letters, digits and underscores, starting with a letter',
  },
  ParamValue: {
    if: { type: 'array' },
    then: { type: 'array', maxItems: 1000, items: { type: SCALAR_TYPES } },
    else: { type: SCALAR_TYPES, 'x-message': 'must be a string, number, boolean, null or a list of them' },
  },
  Slug: {
    type: 'string',
    pattern: '^[a-z0-9]+([-_.][a-z0-9]+)*$',
    maxLength: 100,
    'x-message': 'must be a slug: lowercase letters and digits, separated by "-", "_" or "."',
    description: 'Stable id of the rule; overrides and exclusions refer to it.',
  },
  RuleList: { type: 'array', maxItems: 1000, items: ref('Rule') },
};

const MAPPING_DOCUMENT_SCHEMA_ID = 'urn:evidence-hub:schema:mapping-document';

/** A mapping document: `{rules: [...]}` (optionally with name and description) or a bare array of rules. */
export const mappingDocumentSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: MAPPING_DOCUMENT_SCHEMA_ID,
  title: 'Evidence Hub mapping document',
  description:
    'Rules that turn collected dataset snapshots into evidence items. Either `{rules: [...]}` or a bare array of rules; YAML or JSON.',
  if: { type: 'array' },
  then: ref('RuleList'),
  else: {
    type: 'object',
    'x-message': 'must be a list of rules or an object with "rules"',
    required: ['rules'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', maxLength: 200 },
      description: { type: 'string', maxLength: 4000 },
      rules: ref('RuleList'),
    },
  },
  $defs,
} as const satisfies Schema;

/** The schema of a bare list of rules (e.g. the `rules` member of an API request), self-contained like the document's. */
export const mappingRulesSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:evidence-hub:schema:mapping-rules',
  title: 'Evidence Hub mapping rules',
  ...ref('RuleList'),
  $defs,
} as const satisfies Schema;
