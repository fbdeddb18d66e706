import { describe, expect, test } from 'vitest'
import { CFN_TAGS, CfnTag, isCfnTag, toLongForm } from './cfn-tags.ts'

describe('CloudFormation short tags', () => {
  test('every short tag of the CloudFormation reference is known', () => {
    for (const tag of [
      '!Ref',
      '!GetAtt',
      '!Sub',
      '!If',
      '!Join',
      '!Select',
      '!Split',
      '!FindInMap',
      '!GetAZs',
    ]) {
      expect(isCfnTag(tag), tag).toBe(true)
    }
    for (const tag of [
      '!Equals',
      '!Not',
      '!And',
      '!Or',
      '!Condition',
      '!ImportValue',
      '!Base64',
      '!Cidr',
      '!ValueOf',
    ]) {
      expect(isCfnTag(tag), tag).toBe(true)
    }
    expect(isCfnTag('!Subb')).toBe(false)
    expect(isCfnTag('!!str')).toBe(false)
    expect(new Set(CFN_TAGS).size).toBe(CFN_TAGS.length)
  })

  test('toLongForm gives the JSON form the CloudFormation API takes', () => {
    expect(
      toLongForm({
        a: new CfnTag('!Ref', 'Name'),
        b: new CfnTag('!GetAtt', 'Bucket.Arn'),
        c: new CfnTag('!GetAtt', ['Bucket', 'Arn']),
        d: new CfnTag('!If', ['Cond', new CfnTag('!Sub', '${A}'), new CfnTag('!Ref', 'AWS::NoValue')]),
        e: new CfnTag('!Condition', 'IsProd'),
        f: [1, 'x', null],
      }),
    ).toEqual({
      a: { Ref: 'Name' },
      b: { 'Fn::GetAtt': ['Bucket', 'Arn'] },
      c: { 'Fn::GetAtt': ['Bucket', 'Arn'] },
      d: { 'Fn::If': ['Cond', { 'Fn::Sub': '${A}' }, { Ref: 'AWS::NoValue' }] },
      e: { Condition: 'IsProd' },
      f: [1, 'x', null],
    })
  })

  test('!GetAtt of a nested attribute splits at the first dot only', () => {
    expect(toLongForm(new CfnTag('!GetAtt', 'Db.Endpoint.Address'))).toEqual({
      'Fn::GetAtt': ['Db', 'Endpoint.Address'],
    })
  })
})
