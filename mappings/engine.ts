/**
 * The mapping engine's public API: compile a mapping document once, then evaluate it over
 * dataset snapshots as often as needed. Pure library code: no I/O, no clock, no database.
 *
 *   const mapping = compileRules(document);            // throws MappingValidationError
 *   const { evidence, errors, stats } = evaluate(mapping, { 'okta.users': users }, { now });
 */
export { compileRules, validateMappingDocument, MappingValidationError, TEMPLATE_VARIABLES } from './compile.js';
export type { CompiledMapping } from './compile.js';
export { evaluate, evaluateFromStream, DEFAULT_MAX_LIST_ITEMS } from './evaluate.js';
export { UnreadableDataset } from './datasets.js';
export type { DatasetSource } from './datasets.js';
export { parseRulesDocument, parseYamlOrJson, readRulesSource } from './document.js';
export type { ParsedMapping, SourceError } from './document.js';
export { mappingDocumentSchema, mappingRulesSchema } from './rule-schema.js';
export type * from './types.js';
export { compareEvaluations, failingRecordsOf } from './failing-records.js';
export type { FailingRecordView, RuleComparison } from './failing-records.js';
