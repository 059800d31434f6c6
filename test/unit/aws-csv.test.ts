import { describe, expect, it } from 'vitest';
import { credentialReportRecords, parseCsv } from '../../connectors/aws/csv.js';
import { linkUrl } from '../../connectors/link-header.js';

describe('credential report CSV', () => {
  it('parses quoted fields, doubled quotes and CRLF', () => {
    expect(parseCsv('a,"b,c","d ""e"""\r\n1,2,3\n')).toEqual([['a', 'b,c', 'd "e"'], ['1', '2', '3']]);
  });

  it('turns the report into records with booleans and nulls for AWS’s markers', () => {
    const csv = 'user,arn,password_enabled,mfa_active,password_last_used,access_key_1_last_rotated\n' +
      '<root_account>,arn:aws:iam::1:root,not_supported,true,2026-01-01T00:00:00+00:00,N/A\n' +
      'alice,arn:aws:iam::1:user/alice,true,false,no_information,2026-02-01T00:00:00+00:00\n';
    expect(credentialReportRecords(csv)).toEqual([
      { user: '<root_account>', arn: 'arn:aws:iam::1:root', password_enabled: null, mfa_active: true, password_last_used: '2026-01-01T00:00:00+00:00', access_key_1_last_rotated: null },
      { user: 'alice', arn: 'arn:aws:iam::1:user/alice', password_enabled: true, mfa_active: false, password_last_used: null, access_key_1_last_rotated: '2026-02-01T00:00:00+00:00' },
    ]);
  });
});

describe('Link header', () => {
  it('finds rel="next" among several links and headers', () => {
    expect(linkUrl(['<https://a/x?after=1>; rel="self"', '<https://a/x?after=2>; rel="next"'], 'next')).toBe('https://a/x?after=2');
    expect(linkUrl('<https://a/1>; rel="self", <https://a/2>; rel="next"', 'next')).toBe('https://a/2');
    expect(linkUrl('<https://a/1>; rel="self"', 'next')).toBeNull();
    expect(linkUrl(undefined, 'next')).toBeNull();
  });
});

describe('AWS SDK errors', async () => {
  const { classify } = await import('../../connectors/aws/index.js');
  const failure = (name: string, status?: number) => {
    try {
      classify(Object.assign(new Error('msg'), { name, $metadata: { httpStatusCode: status } }), 'reading X');
    } catch (err) {
      return err as { kind: string; retryable: boolean; message: string };
    }
    throw new Error('classify did not throw');
  };

  it('auth and permission failures are not retried; throttling and 5xx are', () => {
    expect(failure('InvalidClientTokenId', 403)).toMatchObject({ kind: 'auth', retryable: false });
    expect(failure('SignatureDoesNotMatch', 403).message).toMatch(/rejected the credentials while reading X/);
    expect(failure('AccessDenied', 403)).toMatchObject({ kind: 'permission', retryable: false });
    expect(failure('Throttling', 400)).toMatchObject({ kind: 'rate_limited', retryable: true });
    expect(failure('ServiceUnavailable', 503)).toMatchObject({ kind: 'unavailable', retryable: true });
  });
});
