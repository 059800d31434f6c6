import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, CreateLoginProfileCommand, IAMClient, UpdateAccountPasswordPolicyCommand, DeleteAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { PutPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection, runToEnd, snapshotRecords } from '../helpers/collect.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { ASSESSMENT } from '../helpers/fixtures.js';

/** A job with the aws pack into AUDIGYD, run to its end. */
async function runJob(t: TestHub, audigyd: AudigydSimulator, connection: string, datasets: string[]) {
  const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
  const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'aws', pack: 'aws' } });
  const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'aws', connection_id: connection, datasets, mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_all' } } });
  expect(job.status, job.text).toBe(201);
  return runToEnd(t.call, job.body.id);
}

const MOTO_ACCOUNT = '123456789012';

describe('AWS connector against moto (server mode)', () => {
  let t: TestHub;
  const endpoint = inject('motoUrl')!;
  const client = { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' } };
  beforeAll(async () => {
    t = await startTestHub();
    await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    const iam = new IAMClient(client);
    for (const user of ['alice', 'bob', 'carol']) {
      await iam.send(new CreateUserCommand({ UserName: user }));
      await iam.send(new CreateLoginProfileCommand({ UserName: user, Password: 'Passw0rd!Passw0rd!' }));
    }
    await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    await new S3Client({ ...client, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'trail-logs' }));
    const trails = new CloudTrailClient(client);
    await trails.send(new CreateTrailCommand({ Name: 'org-trail', S3BucketName: 'trail-logs', IsMultiRegionTrail: true, EnableLogFileValidation: true }));
    await trails.send(new StartLoggingCommand({ Name: 'org-trail' }));
    await trails.send(new CreateTrailCommand({ Name: 'quiet-trail', S3BucketName: 'trail-logs' }));
  });
  afterAll(async () => { await t?.stop(); });

  const connection = (secret = 'secret') =>
    createConnection(t.call, { type: 'aws', config: { auth: 'static', access_key_id: 'AKIAIOSFODNN7EXAMPLE', regions: ['us-east-1', 'eu-west-1'], endpoint }, secrets: { secret_access_key: secret } });

  it('collects the credential report (generated, polled, CSV parsed), account summary and trails with their status', async () => {
    const id = await connection();
    expect((await t.call('POST', `/api/v1/connections/${id}/test`)).body).toMatchObject({ ok: true });
    const result = await collect(t.call, id, ['aws.credential_report', 'aws.account_summary', 'aws.cloudtrail_trails']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    const byName = Object.fromEntries(result.snapshots.map((s) => [s.dataset, s]));

    const report = await snapshotRecords<Record<string, unknown>>(t.call, byName['aws.credential_report']!.id);
    const users = Object.fromEntries(report.map((r) => [r.user, r]));
    expect(Object.keys(users)).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    expect(users.alice).toMatchObject({ password_enabled: true, mfa_active: false, access_key_1_active: false });
    expect(users.bob).toMatchObject({ access_key_1_active: true });
    expect(typeof users.bob!.access_key_1_last_rotated).toBe('string');
    expect(users.alice!.arn).toBe(`arn:aws:iam::${MOTO_ACCOUNT}:user/alice`);

    const [summary] = await snapshotRecords<Record<string, number>>(t.call, byName['aws.account_summary']!.id);
    expect(summary!.Users).toBe(3);

    const trails = await snapshotRecords<{ name: string; is_logging: boolean; is_multi_region_trail: boolean; log_file_validation_enabled: boolean }>(t.call, byName['aws.cloudtrail_trails']!.id);
    // The multi-region trail appears in both regions but is one record.
    expect(trails.map((x) => x.name).sort()).toEqual(['org-trail', 'quiet-trail']);
    expect(trails.find((x) => x.name === 'org-trail')).toMatchObject({ is_logging: true, is_multi_region_trail: true, log_file_validation_enabled: true });
    expect(trails.find((x) => x.name === 'quiet-trail')).toMatchObject({ is_logging: false, is_multi_region_trail: false });
  });

  it('NoSuchEntity means "no password policy", not an error; a policy is read when set', async () => {
    const iam = new IAMClient(client);
    await iam.send(new DeleteAccountPasswordPolicyCommand({})).catch(() => undefined);
    const id = await connection();
    const none = await collect(t.call, id, ['aws.password_policy', 'aws.s3_account_public_access_block']);
    expect(none.status, none.error ?? '').toBe('succeeded');
    const byName = Object.fromEntries(none.snapshots.map((s) => [s.dataset, s]));
    expect((await snapshotRecords(t.call, byName['aws.password_policy']!.id))[0]).toMatchObject({ exists: false, minimum_password_length: null });
    expect((await snapshotRecords(t.call, byName['aws.s3_account_public_access_block']!.id))[0]).toMatchObject({ account_id: MOTO_ACCOUNT, configured: false });

    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 14, PasswordReusePrevention: 24, RequireSymbols: true }));
    await new S3ControlClient({ ...client, endpointProvider: () => ({ url: new URL(endpoint) }) }).send(new PutPublicAccessBlockCommand({ AccountId: MOTO_ACCOUNT, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    const set = await collect(t.call, id, ['aws.password_policy', 'aws.s3_account_public_access_block']);
    const setByName = Object.fromEntries(set.snapshots.map((s) => [s.dataset, s]));
    expect((await snapshotRecords(t.call, setByName['aws.password_policy']!.id))[0]).toMatchObject({ exists: true, minimum_password_length: 14, password_reuse_prevention: 24, require_symbols: true });
    expect((await snapshotRecords(t.call, setByName['aws.s3_account_public_access_block']!.id))[0]).toMatchObject({ configured: true, block_public_acls: true, restrict_public_buckets: true });
  });

  it("refuses the hub host's own credentials unless the operator allows them", async () => {
    const id = await createConnection(t.call, { type: 'aws', config: { auth: 'default_chain', endpoint } });
    const test = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'bad_config' } });
    expect(test.body.error.message).toContain('HUB_ALLOW_AMBIENT_AWS_CREDENTIALS');
  });

  it('an unreachable endpoint is a readable failure on test', async () => {
    const id = await createConnection(t.call, { type: 'aws', config: { auth: 'static', access_key_id: 'AKIAIOSFODNN7EXAMPLE', endpoint: 'http://127.0.0.1:9' }, secrets: { secret_access_key: 'x' } });
    const test = await t.call('POST', `/api/v1/connections/${id}/test`);
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'unavailable' } });
  });
  it('end to end: moto → aws pack → AUDIGYD, the results follow the account', async () => {
    const audigyd = await startAudigydSimulator({ assessments: [ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    // moto is shared by this file only (IAM is account-global): start from a clean account.
    await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    const iam = new IAMClient(client);
    await iam.send(new CreateUserCommand({ UserName: 'dev' }));
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 16, PasswordReusePrevention: 24 }));
    const connection = await createConnection(t.call, { type: 'aws', config: { auth: 'static', access_key_id: 'AKIAIOSFODNN7EXAMPLE', endpoint }, secrets: { secret_access_key: 'secret' } });
    const run = await runJob(t, audigyd, connection, ['aws.credential_report', 'aws.password_policy', 'aws.account_summary', 'aws.cloudtrail_trails', 'aws.s3_account_public_access_block']);
    expect(['succeeded', 'partial']).toContain(run.status);
    const arrived = Object.fromEntries(audigyd.state.evidence.filter((e) => e.source.toLowerCase().includes('aws')).map((e) => [e.questionId, e] as const));
    expect(arrived.q_pwlen!.result).toBe('pass');
    expect(arrived.q_reuse!.result).toBe('pass');
    expect(arrived.q_trail!.result).toBe('fail'); // no trail in this account
    expect(arrived.q_s3!.result).toBe('fail');
    await audigyd.close();
  });
});
