import type { IAMClientConfig } from '@aws-sdk/client-iam';
import type * as Sdk from './sdk.js';
import http from 'node:http';
import https from 'node:https';
import { guardedLookup } from '../../lib/net-guard.js';
import { ConnectorError } from '../errors.js';
import type { ConnectorContext, JsonValue, SourceConnector } from '../types.js';
import { credentialReportRecords } from './csv.js';
import { awsDatasets } from './records.js';

interface AwsConfig {
  auth: 'default_chain' | 'static' | 'assume_role';
  access_key_id?: string;
  role_arn?: string;
  external_id?: string;
  regions?: string[];
  endpoint?: string;
}

const SYSTEM = 'AWS';

/** The AWS SDK (tens of MB of modules) is loaded on the first AWS call, not when the hub starts. */
let sdkLoading: Promise<typeof Sdk> | null = null;
const loadSdk = () => (sdkLoading ??= import('./sdk.js'));
const REPORT_POLL_MS = 2_000;
const REPORT_MAX_POLLS = 60;

/** SDK errors → what an admin should do about them. */
export function classify(err: unknown, what: string): never {
  if (err instanceof ConnectorError) throw err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const said = `${name}: ${e.message ?? ''}`.trim();
  if (/InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|ExpiredToken|InvalidAccessKeyId|AuthFailure|CredentialsProviderError/.test(name)) {
    throw new ConnectorError('auth', `AWS rejected the credentials while ${what}: check the access key, secret or role. (${said})`, { status, system: SYSTEM });
  }
  if (/AccessDenied|UnauthorizedOperation|Forbidden/.test(name) || status === 403) {
    throw new ConnectorError('permission', `AWS denied ${what}: the credentials lack an IAM permission this needs. (${said})`, { status, system: SYSTEM });
  }
  if (/Throttl|TooManyRequests|RequestLimitExceeded/.test(name) || status === 429) throw new ConnectorError('rate_limited', `AWS throttled ${what}. (${said})`, { status, system: SYSTEM });
  if ((status ?? 0) >= 500 || /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|TimeoutError|socket/i.test(said)) throw new ConnectorError('unavailable', `AWS could not be reached while ${what}. (${said})`, { status, system: SYSTEM });
  throw new ConnectorError('bad_response', `AWS answered an error while ${what}. (${said})`, { status, system: SYSTEM });
}

/** Clients per service and region, sharing one credential provider. */
class AwsSession {
  private readonly credentials: () => Promise<IAMClientConfig['credentials']>;
  readonly regions: string[];

  constructor(readonly ctx: ConnectorContext, readonly config: AwsConfig, allowAmbientCredentials: boolean) {
    this.regions = config.regions?.length ? config.regions : ['us-east-1'];
    const secret = ctx.secrets.secret_access_key;
    const staticKeys = config.access_key_id && secret ? { accessKeyId: config.access_key_id, secretAccessKey: secret, sessionToken: ctx.secrets.session_token } : undefined;
    if (config.auth === 'static' && !staticKeys) throw new ConnectorError('bad_config', 'AWS: static auth needs config.access_key_id and the secret_access_key secret.');
    const ambient = config.auth === 'default_chain' || (config.auth === 'assume_role' && !staticKeys);
    if (ambient && !allowAmbientCredentials) {
      throw new ConnectorError('bad_config', "AWS: this connection would use the hub host's own AWS credentials (the SDK default chain); that is allowed only when the operator sets HUB_ALLOW_AMBIENT_AWS_CREDENTIALS=true. Use static keys, or assume_role with static keys.");
    }
    if (config.auth === 'assume_role') {
      if (!config.role_arn) throw new ConnectorError('bad_config', 'AWS: assume_role needs config.role_arn.');
      const roleArn = config.role_arn;
      this.credentials = async () => (await loadSdk()).fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: 'evidence-hub', ...(config.external_id ? { ExternalId: config.external_id } : {}) },
        // The role is assumed with static keys when given, else with the default chain.
        ...(staticKeys ? { masterCredentials: staticKeys } : {}),
        clientConfig: { region: this.regions[0], ...(config.endpoint ? { endpoint: config.endpoint } : {}) },
      });
    } else {
      // undefined: the SDK's default chain (environment, shared config, instance/task role).
      const credentials = config.auth === 'static' ? staticKeys : undefined;
      this.credentials = async () => credentials;
    }
  }

  /** The session's one credential provider, made on first use. */
  private resolvedCredentials: Promise<IAMClientConfig['credentials']> | null = null;

  private async options(region: string) {
    return {
      region,
      credentials: await (this.resolvedCredentials ??= this.credentials()),
      ...(this.config.endpoint ? { endpoint: this.config.endpoint } : {}),
      // The SDK has its own HTTP stack: an endpoint override gets the same DNS-time
      // private-address check as every other outbound call.
      ...(this.config.endpoint && !this.ctx.http.allowPrivateNetworks ? { requestHandler: { httpAgent: new http.Agent({ lookup: guardedLookup }), httpsAgent: new https.Agent({ lookup: guardedLookup }) } } : {}),
      maxAttempts: 3,
    };
  }

  async iam() { return new (await loadSdk()).IAMClient(await this.options('us-east-1')); }
  async sts() { return new (await loadSdk()).STSClient(await this.options(this.regions[0]!)); }
  async cloudtrail(region: string) { return new (await loadSdk()).CloudTrailClient(await this.options(region)); }
  // S3 Control puts the account id in front of the host name; an endpoint override is used
  // exactly as given instead (the rule set would turn http://10.0.0.5 into an invalid host).
  async s3control() {
    const endpoint = this.config.endpoint;
    return new (await loadSdk()).S3ControlClient({ ...(await this.options(this.regions[0]!)), ...(endpoint ? { endpointProvider: () => ({ url: new URL(endpoint) }) } : {}) });
  }

  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.ctx.heartbeat();
      return result;
    } catch (err) {
      classify(err, what);
    }
  }

  async accountId(): Promise<string> {
    const { GetCallerIdentityCommand } = await loadSdk();
    const sts = await this.sts();
    const identity = await this.call('reading the caller identity', () => sts.send(new GetCallerIdentityCommand({})));
    return identity.Account ?? '';
  }
}

const one = (record: JsonValue) => ({ records: [record], next: null });

export interface AwsOptions {
  /** Whether a connection may use the hub host's own AWS credentials (HUB_ALLOW_AMBIENT_AWS_CREDENTIALS). */
  allowAmbientCredentials: boolean;
}

export const awsConnector = (options: AwsOptions): SourceConnector<AwsSession> => ({
  type: 'aws',
  name: 'Amazon Web Services',
  description: 'IAM credential report, password policy and account summary, CloudTrail trails and S3 account-level public access block (SDK credential chain, static keys or an assumed role).',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['auth'],
    properties: {
      auth: { enum: ['default_chain', 'static', 'assume_role'], description: 'default_chain: environment/instance role; static: access key + secret; assume_role: role_arn (+ external_id) assumed with the chain or the static keys.' },
      access_key_id: { type: 'string', pattern: '^[A-Z0-9]{16,128}$' },
      role_arn: { type: 'string', pattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/.+' },
      external_id: { type: 'string', minLength: 2, maxLength: 1224 },
      regions: { type: 'array', minItems: 1, maxItems: 30, uniqueItems: true, items: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' }, description: 'Regions whose CloudTrail trails are read (default us-east-1).' },
      endpoint: { type: 'string', format: 'uri', description: 'Endpoint override (an AWS-compatible API, e.g. a VPC endpoint or moto).' },
    },
  },
  secretsSchema: { type: 'object', additionalProperties: false, properties: { secret_access_key: { type: 'string', minLength: 1 }, session_token: { type: 'string' } } },
  urlFields: ['endpoint'],
  open: (ctx) => new AwsSession(ctx, ctx.config as unknown as AwsConfig, options.allowAmbientCredentials),
  async test(aws) {
    await aws.accountId();
  },
  datasets: {
    'aws.credential_report': {
      ...awsDatasets['aws.credential_report'],
      async *pages(aws) {
        const { GenerateCredentialReportCommand, GetCredentialReportCommand } = await loadSdk();
        const iam = await aws.iam();
        // Generate, then poll until COMPLETE (AWS builds the report asynchronously).
        for (let poll = 0; ; poll++) {
          const generated = await aws.call('generating the credential report', () => iam.send(new GenerateCredentialReportCommand({})));
          if (generated.State === 'COMPLETE') break;
          if (poll >= REPORT_MAX_POLLS) throw new ConnectorError('unavailable', 'AWS did not finish the credential report in time.');
          aws.ctx.heartbeat();
          await aws.ctx.sleep(REPORT_POLL_MS);
        }
        const report = await aws.call('reading the credential report', () => iam.send(new GetCredentialReportCommand({})));
        const csv = Buffer.from(report.Content ?? new Uint8Array()).toString('utf8');
        yield { records: credentialReportRecords(csv) as JsonValue[], next: null };
      },
    },
    'aws.password_policy': {
      ...awsDatasets['aws.password_policy'],
      async *pages(aws) {
        const { GetAccountPasswordPolicyCommand } = await loadSdk();
        const iam = await aws.iam();
        try {
          const { PasswordPolicy: p } = await iam.send(new GetAccountPasswordPolicyCommand({}));
          yield one({
            exists: true,
            minimum_password_length: p?.MinimumPasswordLength ?? null,
            require_symbols: p?.RequireSymbols ?? null,
            require_numbers: p?.RequireNumbers ?? null,
            require_uppercase_characters: p?.RequireUppercaseCharacters ?? null,
            require_lowercase_characters: p?.RequireLowercaseCharacters ?? null,
            allow_users_to_change_password: p?.AllowUsersToChangePassword ?? null,
            expire_passwords: p?.ExpirePasswords ?? null,
            max_password_age: p?.MaxPasswordAge ?? null,
            password_reuse_prevention: p?.PasswordReusePrevention ?? null,
            hard_expiry: p?.HardExpiry ?? null,
          });
        } catch (err) {
          // NoSuchEntity means the account has no password policy: a finding, not a failure.
          if ((err as { name?: string }).name !== 'NoSuchEntityException' && (err as { name?: string }).name !== 'NoSuchEntity') classify(err, 'reading the password policy');
          yield one({
            exists: false, minimum_password_length: null, require_symbols: null, require_numbers: null, require_uppercase_characters: null,
            require_lowercase_characters: null, allow_users_to_change_password: null, expire_passwords: null, max_password_age: null,
            password_reuse_prevention: null, hard_expiry: null,
          });
        }
      },
    },
    'aws.account_summary': {
      ...awsDatasets['aws.account_summary'],
      async *pages(aws) {
        const { GetAccountSummaryCommand } = await loadSdk();
        const iam = await aws.iam();
        const { SummaryMap } = await aws.call('reading the account summary', () => iam.send(new GetAccountSummaryCommand({})));
        yield one((SummaryMap ?? {}) as JsonValue);
      },
    },
    'aws.cloudtrail_trails': {
      ...awsDatasets['aws.cloudtrail_trails'],
      async *pages(aws) {
        // A multi-region trail shows up in every region: one record per ARN.
        const { DescribeTrailsCommand, GetTrailStatusCommand } = await loadSdk();
        const seen = new Set<string>();
        const records: JsonValue[] = [];
        for (const region of aws.regions) {
          const client = await aws.cloudtrail(region);
          const { trailList } = await aws.call(`listing CloudTrail trails in ${region}`, () => client.send(new DescribeTrailsCommand({ includeShadowTrails: true })));
          for (const trail of trailList ?? []) {
            if (!trail.TrailARN || seen.has(trail.TrailARN)) continue;
            seen.add(trail.TrailARN);
            const home = await aws.cloudtrail(trail.HomeRegion ?? region);
            const status = await aws.call(`reading the status of trail ${trail.Name}`, () => home.send(new GetTrailStatusCommand({ Name: trail.TrailARN })));
            records.push({
              name: trail.Name ?? '',
              arn: trail.TrailARN,
              home_region: trail.HomeRegion ?? region,
              is_multi_region_trail: trail.IsMultiRegionTrail ?? false,
              is_organization_trail: trail.IsOrganizationTrail ?? false,
              include_global_service_events: trail.IncludeGlobalServiceEvents ?? false,
              log_file_validation_enabled: trail.LogFileValidationEnabled ?? false,
              s3_bucket_name: trail.S3BucketName ?? null,
              kms_key_id: trail.KmsKeyId ?? null,
              is_logging: status.IsLogging ?? false,
              latest_delivery_time: status.LatestDeliveryTime?.toISOString() ?? null,
              latest_delivery_error: status.LatestDeliveryError ?? null,
            });
          }
        }
        yield { records, next: null };
      },
    },
    'aws.s3_account_public_access_block': {
      ...awsDatasets['aws.s3_account_public_access_block'],
      async *pages(aws) {
        const { GetPublicAccessBlockCommand } = await loadSdk();
        const accountId = await aws.accountId();
        const s3control = await aws.s3control();
        try {
          const { PublicAccessBlockConfiguration: c } = await s3control.send(new GetPublicAccessBlockCommand({ AccountId: accountId }));
          yield one({
            account_id: accountId, configured: true,
            block_public_acls: c?.BlockPublicAcls ?? false, ignore_public_acls: c?.IgnorePublicAcls ?? false,
            block_public_policy: c?.BlockPublicPolicy ?? false, restrict_public_buckets: c?.RestrictPublicBuckets ?? false,
          });
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchPublicAccessBlockConfiguration') classify(err, 'reading the S3 public access block');
          yield one({ account_id: accountId, configured: false, block_public_acls: false, ignore_public_acls: false, block_public_policy: false, restrict_public_buckets: false });
        }
      },
    },
  },
});
