/**
 * The normalised records the AWS connector produces, one JSON Schema (draft 2020-12) per
 * dataset. Field names follow AWS's own (the credential report's CSV columns, IAM's
 * SummaryMap keys) so that a CIS benchmark check reads like the benchmark; values are
 * typed: booleans as booleans, timestamps as ISO-8601, and AWS's "N/A", "no_information"
 * and "not_supported" as null.
 */

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const flag = { type: ['boolean', 'null'] } as const;
const text = { type: ['string', 'null'] } as const;

const CREDENTIAL_REPORT_COLUMNS = {
  user: { type: 'string', description: 'IAM user name; "<root_account>" for the root user.' },
  arn: { type: 'string' },
  user_creation_time: timestamp,
  password_enabled: { ...flag, description: 'null for the root user (AWS reports not_supported).' },
  password_last_used: timestamp,
  password_last_changed: timestamp,
  password_next_rotation: timestamp,
  mfa_active: flag,
  access_key_1_active: flag,
  access_key_1_last_rotated: timestamp,
  access_key_1_last_used_date: timestamp,
  access_key_1_last_used_region: text,
  access_key_1_last_used_service: text,
  access_key_2_active: flag,
  access_key_2_last_rotated: timestamp,
  access_key_2_last_used_date: timestamp,
  access_key_2_last_used_region: text,
  access_key_2_last_used_service: text,
  cert_1_active: flag,
  cert_1_last_rotated: timestamp,
  cert_2_active: flag,
  cert_2_last_rotated: timestamp,
} as const;

export const awsDatasets = {
  'aws.credential_report': {
    description: 'The IAM credential report: one record per CSV row (per IAM user, plus the root account).',
    record_schema: {
      type: 'object',
      // AWS adds columns over time; unknown ones are passed through as they come.
      additionalProperties: true,
      required: Object.keys(CREDENTIAL_REPORT_COLUMNS),
      properties: CREDENTIAL_REPORT_COLUMNS,
    },
  },
  'aws.password_policy': {
    description: 'The account password policy as one record; exists is false (and the settings null) when none is set.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: [
        'exists',
        'minimum_password_length',
        'require_symbols',
        'require_numbers',
        'require_uppercase_characters',
        'require_lowercase_characters',
        'allow_users_to_change_password',
        'expire_passwords',
        'max_password_age',
        'password_reuse_prevention',
        'hard_expiry',
      ],
      properties: {
        exists: { type: 'boolean' },
        minimum_password_length: { type: ['integer', 'null'] },
        require_symbols: flag,
        require_numbers: flag,
        require_uppercase_characters: flag,
        require_lowercase_characters: flag,
        allow_users_to_change_password: flag,
        expire_passwords: flag,
        max_password_age: { type: ['integer', 'null'], description: 'Days; null when passwords do not expire.' },
        password_reuse_prevention: { type: ['integer', 'null'], description: 'Previous passwords remembered; null when not set.' },
        hard_expiry: flag,
      },
    },
  },
  'aws.account_summary': {
    description: "IAM's account summary as one record, with the SummaryMap keys as AWS names them (AccountMFAEnabled, Users, …).",
    record_schema: {
      type: 'object',
      required: ['AccountMFAEnabled', 'AccountAccessKeysPresent'],
      properties: {
        AccountMFAEnabled: { enum: [0, 1], description: '1 when the root user has MFA.' },
        AccountAccessKeysPresent: { enum: [0, 1], description: '1 when the root user has access keys.' },
      },
      additionalProperties: { type: 'integer' },
    },
  },
  'aws.cloudtrail_trails': {
    description: 'CloudTrail trails with their configuration and logging status.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: [
        'name',
        'arn',
        'home_region',
        'is_multi_region_trail',
        'is_organization_trail',
        'include_global_service_events',
        'log_file_validation_enabled',
        's3_bucket_name',
        'kms_key_id',
        'is_logging',
        'latest_delivery_time',
        'latest_delivery_error',
      ],
      properties: {
        name: { type: 'string' },
        arn: { type: 'string' },
        home_region: { type: 'string' },
        is_multi_region_trail: { type: 'boolean' },
        is_organization_trail: { type: 'boolean' },
        include_global_service_events: { type: 'boolean' },
        log_file_validation_enabled: { type: 'boolean' },
        s3_bucket_name: text,
        kms_key_id: { ...text, description: 'Null when logs are not encrypted with a KMS key.' },
        is_logging: { type: 'boolean', description: 'From GetTrailStatus.' },
        latest_delivery_time: timestamp,
        latest_delivery_error: text,
      },
    },
  },
  'aws.s3_account_public_access_block': {
    description: 'The account-level S3 Block Public Access configuration as one record; configured is false (flags false) when none is set.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['account_id', 'configured', 'block_public_acls', 'ignore_public_acls', 'block_public_policy', 'restrict_public_buckets'],
      properties: {
        account_id: { type: 'string' },
        configured: { type: 'boolean' },
        block_public_acls: { type: 'boolean' },
        ignore_public_acls: { type: 'boolean' },
        block_public_policy: { type: 'boolean' },
        restrict_public_buckets: { type: 'boolean' },
      },
    },
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;
