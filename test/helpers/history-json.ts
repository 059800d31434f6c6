/**
 * Workflow histories to and from the JSON of `temporal workflow show --output json` (proto3
 * JSON: camelCase fields, int64 as strings, EVENT_TYPE_… enum names).
 *
 * The same as historyToJSON / historyFromJSON of @temporalio/common/lib/proto-utils, which
 * cannot be used in this install: npm nests a copy of protobufjs 8 under each of
 * @temporalio/common, @temporalio/proto and @temporalio/worker (the top level holds 7), and
 * common's protojson refuses the message types built by proto's copy ("type must be a Type").
 * That includes Worker.runReplayHistories given JSON, which goes through historyFromJSON: so
 * histories are parsed here, with the protobufjs copy of @temporalio/proto, and handed to the
 * replayer as History messages.
 */
import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';

export type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History | null;
}

const requireFromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const protojson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the generated root's types lack lookupType
const historyType = (patchProtobufRoot(proto) as any).lookupType('temporal.api.history.v1.History');

/** A history (as fetchHistory() gives it) as the JSON text of a history file. */
export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- history JSON

/** Newer CLIs write enums in short form (WorkflowExecutionStarted): the long form, as historyFromJSON fixes them. */
function fixEnum(obj: Json | undefined, attr: string, prefix: string): Json {
  const value = obj?.[attr];
  if (typeof value !== 'string' || value.startsWith(prefix)) return {};
  return { [attr]: `${prefix}_${value.replace(/[^\b][A-Z]/g, (m) => `${m[0]}_${m[1]}`).toUpperCase()}` };
}

/** The JSON of a history file as a History message. */
export function historyFromJSON(json: unknown): History {
  const h = json as Json;
  if (typeof h !== 'object' || h === null || !Array.isArray(h.events)) throw new TypeError('Invalid history, expected an object with an array of events');
  const events = (h.events as Json[]).map((e) => {
    const key = Object.keys(e).find((k) => k.endsWith('EventAttributes'));
    if (!key) throw new TypeError(`Missing attributes in history event: ${JSON.stringify(e)}`);
    const attrs = e[key] as Json;
    return {
      ...e,
      ...fixEnum(e, 'eventType', 'EVENT_TYPE'),
      [key]: {
        ...attrs,
        ...(attrs.taskQueue ? { taskQueue: { ...attrs.taskQueue, ...fixEnum(attrs.taskQueue, 'kind', 'TASK_QUEUE_KIND') } } : {}),
        ...fixEnum(attrs, 'parentClosePolicy', 'PARENT_CLOSE_POLICY'),
        ...fixEnum(attrs, 'workflowIdReusePolicy', 'WORKFLOW_ID_REUSE_POLICY'),
        ...fixEnum(attrs, 'initiator', 'CONTINUE_AS_NEW_INITIATOR'),
        ...fixEnum(attrs, 'retryState', 'RETRY_STATE'),
      },
    };
  });
  const history = protojson.fromJson(historyType, { events }, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('Invalid history');
  return history;
}
