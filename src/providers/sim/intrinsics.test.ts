import { describe, expect, it } from 'vitest'
import { evaluateIntrinsics, type IntrinsicContext, UnresolvableError } from './intrinsics.ts'

const context: IntrinsicContext = {
  accountId: '111111111111',
  region: 'eu-central-1',
  stackName: 'route53-hostedzones',
  parameters: { DomainName: 'teapot.example.org', Names: 'a,b,c' },
  physicalIds: { HostedZone: 'Z0123456789ABC', Bucket: 'logs-bucket' },
  attributes: { 'HostedZone.NameServers': ['ns-1.sim.flotilla.', 'ns-2.sim.flotilla.'] },
}

const evaluate = (value: unknown) => evaluateIntrinsics(value, context)

describe('evaluateIntrinsics', () => {
  it('resolves Ref to parameters, resources and pseudo parameters', () => {
    expect(evaluate({ Ref: 'DomainName' })).toBe('teapot.example.org')
    expect(evaluate({ Ref: 'HostedZone' })).toBe('Z0123456789ABC')
    expect(
      evaluate([
        { Ref: 'AWS::AccountId' },
        { Ref: 'AWS::Region' },
        { Ref: 'AWS::StackName' },
        { Ref: 'AWS::Partition' },
        { Ref: 'AWS::URLSuffix' },
      ]),
    ).toEqual(['111111111111', 'eu-central-1', 'route53-hostedzones', 'aws', 'amazonaws.com'])
  })

  it('prefers a parameter over a resource of the same name', () => {
    expect(
      evaluateIntrinsics(
        { Ref: 'Zone' },
        { ...context, parameters: { Zone: 'p' }, physicalIds: { Zone: 'r' } },
      ),
    ).toBe('p')
  })

  it('substitutes variables in Fn::Sub, with ${!Literal} kept literally and a variables map', () => {
    expect(evaluate({ 'Fn::Sub': '${DomainName}.' })).toBe('teapot.example.org.')
    expect(evaluate({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/*' })).toBe(
      'arn:aws:s3:::logs-bucket/*',
    )
    expect(evaluate({ 'Fn::Sub': '${!Literal} and ${!DomainName}' })).toBe('${Literal} and ${DomainName}')
    expect(
      evaluate({
        'Fn::Sub': [
          'www.${Zone}.${DomainName}',
          { Zone: { Ref: 'AWS::Region' }, DomainName: 'override.org' },
        ],
      }),
    ).toBe('www.eu-central-1.override.org')
    expect(evaluate({ 'Fn::Sub': '${HostedZone.NameServers}' })).toBe('ns-1.sim.flotilla.,ns-2.sim.flotilla.')
  })

  it('joins, selects and splits lists', () => {
    expect(evaluate({ 'Fn::Join': ['-', ['a', { Ref: 'AWS::Region' }, 'z']] })).toBe('a-eu-central-1-z')
    expect(evaluate({ 'Fn::Join': [',', { 'Fn::GetAtt': ['HostedZone', 'NameServers'] }] })).toBe(
      'ns-1.sim.flotilla.,ns-2.sim.flotilla.',
    )
    expect(evaluate({ 'Fn::Split': [',', { Ref: 'Names' }] })).toEqual(['a', 'b', 'c'])
    expect(evaluate({ 'Fn::Select': [1, { 'Fn::Split': [',', { Ref: 'Names' }] }] })).toBe('b')
    expect(evaluate({ 'Fn::Select': ['2', ['x', 'y', 'z']] })).toBe('z')
  })

  it('answers Fn::GetAtt from known attributes, else derives a stable value from the physical id', () => {
    expect(evaluate({ 'Fn::GetAtt': 'HostedZone.NameServers' })).toEqual(
      context.attributes?.['HostedZone.NameServers'],
    )
    expect(evaluate({ 'Fn::GetAtt': ['Bucket', 'Arn'] })).toBe('logs-bucket/Arn')
    expect(evaluate({ 'Fn::GetAtt': 'Bucket.Arn' })).toBe('logs-bucket/Arn')
  })

  it('keeps the whole attribute name of a nested attribute (LogicalId.Attribute.Part)', () => {
    const withEndpoint = {
      ...context,
      physicalIds: { Cache: 'alerts-cache' },
      attributes: { 'Cache.PrimaryEndPoint.Address': 'alerts.cache.example.org' },
    }
    expect(evaluateIntrinsics({ 'Fn::GetAtt': 'Cache.PrimaryEndPoint.Address' }, withEndpoint)).toBe(
      'alerts.cache.example.org',
    )
    expect(evaluateIntrinsics({ 'Fn::GetAtt': ['Cache', 'PrimaryEndPoint.Address'] }, withEndpoint)).toBe(
      'alerts.cache.example.org',
    )
    expect(evaluateIntrinsics({ 'Fn::Sub': '${Cache.PrimaryEndPoint.Port}' }, withEndpoint)).toBe(
      'alerts-cache/PrimaryEndPoint.Port',
    )
  })

  it('evaluates nested structures and leaves plain values alone', () => {
    const properties = {
      Name: { 'Fn::Sub': 'www.${DomainName}.' },
      TTL: 300,
      Enabled: true,
      Nothing: null,
      ResourceRecords: [{ Ref: 'AWS::Region' }, '192.0.2.1'],
      Tags: [{ Key: 'zone', Value: { Ref: 'HostedZone' } }],
    }
    expect(evaluate(properties)).toEqual({
      Name: 'www.teapot.example.org.',
      TTL: 300,
      Enabled: true,
      Nothing: null,
      ResourceRecords: ['eu-central-1', '192.0.2.1'],
      Tags: [{ Key: 'zone', Value: 'Z0123456789ABC' }],
    })
    expect(evaluate('plain')).toBe('plain')
  })

  it('throws UnresolvableError for what only a cloud could answer', () => {
    const unresolvable = [
      { Ref: 'Missing' },
      { Ref: 'AWS::NoValue' },
      { Ref: 'toString' }, // names of Object.prototype are no parameters
      { 'Fn::Sub': '${Missing}' },
      { 'Fn::Sub': '${constructor}' },
      { 'Fn::Sub': 42 },
      { 'Fn::GetAtt': 'Missing.Arn' },
      { 'Fn::GetAtt': 'hasOwnProperty.Arn' },
      { 'Fn::ImportValue': 'vpc-VpcId' },
      { 'Fn::GetAZs': '' },
      { 'Fn::If': ['IsProduction', 'a', 'b'] },
      { Condition: 'IsProduction' },
      { 'Fn::Select': [5, ['a']] },
      { 'Fn::Select': [0, { Ref: 'DomainName' }] },
      { 'Fn::Join': [',', { Ref: 'DomainName' }] },
    ]
    for (const value of unresolvable) {
      expect(() => evaluate(value), JSON.stringify(value)).toThrow(UnresolvableError)
    }
    expect(() => evaluate({ Ref: 'Missing' })).toThrow(
      'Ref Missing: no parameter, resource or pseudo parameter',
    )
    expect(() => evaluate({ 'Fn::ImportValue': 'x' })).toThrow(
      'Fn::ImportValue is not evaluated by the simulated fleet',
    )
  })
})
