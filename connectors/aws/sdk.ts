/**
 * The AWS SDK v3 clients and commands the AWS connector uses, in a module of their own: the
 * connector imports it on its first AWS call (connectors/aws/index.ts), so a hub that never
 * talks to AWS does not hold the SDK's modules in memory.
 */
export { CloudTrailClient, DescribeTrailsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
export { GenerateCredentialReportCommand, GetAccountPasswordPolicyCommand, GetAccountSummaryCommand, GetCredentialReportCommand, IAMClient } from '@aws-sdk/client-iam';
export { GetPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
export { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
export { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
