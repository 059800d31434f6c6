/** A JSON Schema (draft 2020-12, as Ajv and OpenAPI 3.1 read it), kept as plain data. */
export type JsonSchema = Record<string, unknown>;
