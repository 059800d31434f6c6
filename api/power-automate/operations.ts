/**
 * The operations a Power Automate maker needs, chosen from the hub's routes by their
 * operationId: what each is called in the flow designer, how visible it is, which of its
 * parameters get a picker. Everything else (paths, parameters, schemas) comes from the route
 * declarations themselves (swagger.ts), so the connector cannot drift from the API.
 */

export type Visibility = 'important' | 'advanced' | 'internal';

/** A picker: the parameter's values come from an (internal) list operation of the connector. */
export interface Picker {
  /** The connector's operationId of the list operation. */
  operationId: string;
  /** The list's items in its response, the value sent, the title shown. */
  collection: string;
  value: string;
  title: string;
  /** Fixed parameters of the list call. */
  parameters?: Record<string, unknown>;
}

export interface ParameterOverride {
  summary?: string;
  description?: string;
  visibility?: Visibility;
  /** Required in the connector although optional in the API (a narrower use of the same operation). */
  required?: boolean;
  picker?: Picker;
  /** Left out of the connector. */
  omit?: boolean;
}

export interface MakerOperation {
  /** The route's operationId (api/routers/*.ts). */
  source: string;
  /** PascalCase, as Power Automate names actions. */
  operationId: string;
  /** Sentence case, at most 80 characters of letters, digits, spaces and parentheses. */
  summary: string;
  /** A full sentence, ending with a period. */
  description: string;
  visibility: Visibility;
  parameters?: Record<string, ParameterOverride>;
  /**
   * A response the engine ends with although the route never sends it itself: the final
   * answer of the asynchronous pattern, taken from the route that answers it (the status URL).
   */
  finalResponse?: { source: string; status: number; description: string };
  /**
   * A webhook trigger (`x-ms-trigger: single`): the body property that carries the flow's
   * callback URL (`x-ms-notification-url`, internal, required). Its path item declares the
   * notification body (`x-ms-notification-content`); DELETE on the answered Location unsubscribes.
   */
  trigger?: { notificationUrl: string; description: string };
}

/** The connection test Power Automate runs when a connection is created (x-ms-capabilities). */
export const TEST_CONNECTION_OPERATION = 'TestConnection';

const JOB_PICKER: Picker = { operationId: 'ListJobs', collection: 'data', value: 'id', title: 'name', parameters: { limit: 500 } };
const DESTINATION_PICKER: Picker = { operationId: 'ListDestinations', collection: 'data', value: 'id', title: 'name', parameters: { limit: 500 } };
const EVENT_TYPE_PICKER: Picker = { operationId: 'ListEventTypes', collection: 'data', value: 'type', title: 'type' };
const CONNECTION_PICKER: Picker = { operationId: 'ListConnections', collection: 'data', value: 'id', title: 'name', parameters: { limit: 500 } };

const PAGING: Record<string, ParameterOverride> = {
  limit: { summary: 'Page Size', description: 'How many items one call returns (1 to 500, default 50).', visibility: 'advanced' },
  cursor: { summary: 'Page Cursor', description: 'The Next Cursor of the previous page, to read the page after it.', visibility: 'advanced' },
};
const IDEMPOTENCY: ParameterOverride = {
  summary: 'Idempotency Key',
  description: 'Any unique text: a retried call with the same key and body replays the first answer instead of acting twice.',
  visibility: 'advanced',
};

export const MAKER_OPERATIONS: MakerOperation[] = [
  {
    source: 'whoAmI', operationId: TEST_CONNECTION_OPERATION, visibility: 'internal',
    summary: 'Test the connection',
    description: 'Returns the API key of the connection with its workspace and scopes, which proves the key is valid.',
  },
  {
    source: 'listJobs', operationId: 'ListJobs', visibility: 'important',
    summary: 'List jobs',
    description: 'Lists the jobs of the workspace, each with its connection, mapping, destination and schedule.',
    parameters: PAGING,
  },
  {
    source: 'getJob', operationId: 'GetJob', visibility: 'important',
    summary: 'Get a job',
    description: 'Returns one job with its schedule and its next runs.',
    parameters: { id: { summary: 'Job', description: 'The job to read.', visibility: 'important', picker: JOB_PICKER } },
  },
  {
    source: 'triggerRun', operationId: 'RunJob', visibility: 'important',
    summary: 'Run a job',
    description: 'Starts a run of the job now and waits until it has ended, then returns the run with its counts and evidence items.',
    parameters: {
      id: { summary: 'Job', description: 'The job to run.', visibility: 'important', picker: JOB_PICKER },
      'Idempotency-Key': IDEMPOTENCY,
      input: { summary: 'Records', description: 'Only for a job whose connection is a push source: every dataset of the job, each an array of records.', visibility: 'advanced' },
    },
    finalResponse: { source: 'getRunStatus', status: 200, description: 'The finished run, which the engine reads from Location once it stops polling.' },
  },
  {
    source: 'getRun', operationId: 'GetRun', visibility: 'important',
    summary: 'Get a run',
    description: 'Returns one run with its status, its steps, its counts and its first evidence items.',
    parameters: { id: { summary: 'Run ID', description: 'The ID of the run, as Run a job returns it.', visibility: 'important' } },
  },
  {
    source: 'listEvidence', operationId: 'ListRunEvidence', visibility: 'important',
    summary: 'List the evidence items of a run',
    description: 'Lists the evidence items a run produced, with their results and what the destination did with them.',
    parameters: {
      ...PAGING,
      run_id: { summary: 'Run ID', description: 'The ID of the run whose items to list.', visibility: 'important', required: true },
      job_id: { omit: true },
      control_ref: { summary: 'Control', description: 'Only the items of this control reference.', visibility: 'advanced' },
      result: { summary: 'Result', description: 'Only the items with this result (for example fail).', visibility: 'advanced' },
      status: { summary: 'Delivery Status', description: 'Only the items in this delivery status.', visibility: 'advanced' },
    },
  },
  {
    source: 'listChecks', operationId: 'ListChecks', visibility: 'important',
    summary: 'List checks',
    description: 'Lists the checks of the workspace with their latest status, for example every failing check.',
    parameters: {
      ...PAGING,
      status: { summary: 'Status', description: 'Only the checks in this status (pass, fail, error, info or stale).', visibility: 'important' },
      job_id: { summary: 'Job', description: 'Only the checks of this job.', visibility: 'advanced', picker: JOB_PICKER },
      connection_id: { summary: 'Connection', description: 'Only the checks whose data comes from this connection.', visibility: 'advanced', picker: CONNECTION_PICKER },
      framework: { summary: 'Framework', description: 'Only the checks citing this framework (soc2, iso27001, nist_800_53 or cis_aws).', visibility: 'advanced' },
      control_ref: { summary: 'Control', description: 'Only the checks of this control reference.', visibility: 'advanced' },
    },
  },
  {
    source: 'getPosture', operationId: 'GetPosture', visibility: 'important',
    summary: 'Get the posture',
    description: 'Returns how many checks of the workspace pass, fail, error, are informational or are stale, overall and by framework.',
  },
  {
    source: 'pushEvidence', operationId: 'PushEvidence', visibility: 'important',
    summary: 'Push an evidence item',
    description: 'Sends one evidence item to a destination through the hub, which records it in the ledger and delivers it durably.',
    parameters: {
      'Idempotency-Key': IDEMPOTENCY,
      destination_id: { summary: 'Destination', picker: DESTINATION_PICKER },
    },
  },
  {
    source: 'listDestinations', operationId: 'ListDestinations', visibility: 'internal',
    summary: 'List destinations',
    description: 'Lists the destinations of the workspace, for the destination picker.',
    parameters: PAGING,
  },
  {
    source: 'createPowerAutomateSubscription', operationId: 'WhenAHubEventOccurs', visibility: 'important',
    summary: 'When a hub event occurs',
    description: 'Starts the flow each time the chosen hub event occurs, for example when a run completes, with the event and its data.',
    parameters: {
      callback_url: { summary: 'Callback URL', description: 'The callback URL of the flow, which Power Automate fills in.', visibility: 'internal', required: true },
      event_type: { summary: 'Event Type', description: 'The hub event that starts the flow.', visibility: 'important', required: true, picker: EVENT_TYPE_PICKER },
    },
    trigger: { notificationUrl: 'callback_url', description: 'The hub event, as the hub delivers it to the flow.' },
  },
  {
    source: 'deletePowerAutomateSubscription', operationId: 'DeleteHubEventSubscription', visibility: 'internal',
    summary: 'Delete a hub event subscription',
    description: 'Unsubscribes a flow trigger; Power Automate calls it when the trigger of the flow is removed.',
    parameters: { id: { summary: 'Subscription ID', description: 'The subscription to delete.', visibility: 'internal' } },
  },
  {
    source: 'listEventTypes', operationId: 'ListEventTypes', visibility: 'internal',
    summary: 'List event types',
    description: 'Lists the events the hub emits with the schema of their data, for the event type picker.',
  },
  {
    source: 'listConnections', operationId: 'ListConnections', visibility: 'internal',
    summary: 'List connections',
    description: 'Lists the connections of the workspace, for the connection picker.',
    parameters: PAGING,
  },
];
