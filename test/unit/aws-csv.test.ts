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
