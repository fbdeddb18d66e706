import { readFileSync } from 'node:fs'
import { describe, expect, test, vi } from 'vitest'
import { readAwsIndexFile } from '../../resource-types/aws-index-files.ts'
import { allAwsResourceTypes, awsResourceType, isKnownAwsResourceType, replacementOf } from './aws.ts'

describe('awsResourceType', () => {
  test('a known type: its properties and what changing each does', () => {
    const zone = awsResourceType('AWS::Route53::HostedZone')!
    expect(zone.type).toBe('AWS::Route53::HostedZone')
    expect(zone.properties.get('Name')).toBe(true)
    expect(zone.properties.get('HostedZoneTags')).toBe(false)
    expect(zone.transform).toBeUndefined()
  })

  test.each([
    ['AWS::Route53::HostedZon'],
    ['Custom::DnsRecord'],
    ['AWS::CloudFormation::Stacks'],
    ['My::Org::Thing::MODULE'],
  ])('unknown: %s', (type) => {
    expect(awsResourceType(type)).toBeUndefined()
    expect(isKnownAwsResourceType(type)).toBe(false)
  })

  test.each([
    ['AWS::Route53::HostedZone', ['Name']],
    ['AWS::CertificateManager::Certificate', ['DomainName']],
    ['AWS::S3::Bucket', ['BucketName']],
    ['AWS::IAM::Role', ['RoleName']],
    ['AWS::Route53::RecordSet', ['HostedZoneId', 'Name', 'SetIdentifier', 'Type']],
    ['AWS::EC2::VPC', []],
  ])('identifying properties of %s', (type, expected) => {
    expect(awsResourceType(type)!.identifyingProperties).toEqual(expected)
  })

  test('SAM types are known, with their transform', () => {
    expect(awsResourceType('AWS::Serverless::Function')!.transform).toBe('AWS::Serverless-2016-10-31')
  })

  test('allAwsResourceTypes: every type, sorted', () => {
    const all = allAwsResourceTypes()
    expect(all.length).toBeGreaterThan(1800)
    expect(all).toContain('AWS::Route53::HostedZone')
    expect(all).toContain('Alexa::ASK::Skill')
    expect([...all].sort()).toEqual(all)
  })
})

describe('replacementOf', () => {
  test.each([
    ['AWS::Route53::HostedZone', ['Name'], true],
    ['AWS::CertificateManager::Certificate', ['DomainName'], true],
    ['AWS::S3::Bucket', ['Tags'], false],
    ['AWS::S3::Bucket', ['BucketName'], true],
    ['AWS::EC2::VPC', ['InstanceTenancy'], 'conditional'],
    // inside a replacing property, everything replaces
    ['AWS::CertificateManager::Certificate', ['DomainValidationOptions', '0', 'HostedZoneId'], true],
    // a nested property that replaces under an in-place top-level property
    ['AWS::Route53::HealthCheck', ['HealthCheckConfig', 'Type'], true],
    ['AWS::Route53::HealthCheck', ['HealthCheckConfig', 'Port'], false],
    ['AWS::Route53::HealthCheck', ['HealthCheckConfig'], 'conditional'],
    // below an intrinsic function the shape is unknown until deploy time
    ['AWS::Route53::HealthCheck', ['HealthCheckConfig', 'Fn::If', '1', 'Port'], 'conditional'],
    ['AWS::CertificateManager::Certificate', ['DomainName', 'Fn::Sub'], true],
    ['AWS::S3::Bucket', ['Tags', '0', 'Value', 'Ref'], false],
    // conservative: unknown type, unknown property, a transform's type
    ['AWS::Route53::HostedZon', ['Name'], 'unknown'],
    ['Custom::DnsRecord', ['Name'], 'unknown'],
    ['AWS::S3::Bucket', ['BucketNmae'], 'unknown'],
    ['AWS::Serverless::Function', ['Handler'], 'unknown'],
  ] as const)('%s %j → %s', (type, path, expected) => {
    expect(replacementOf(type, path)).toBe(expected)
  })

  test('list indexes match the index’s `*`', () => {
    const budget = awsResourceType('AWS::Budgets::Budget')!
    expect(budget.properties.get('Budget')).toBe(false)
    expect(budget.nestedProperties.get('Budget.BudgetName')).toBe(true)
    expect(replacementOf('AWS::Budgets::Budget', ['Budget', 'BudgetName'])).toBe(true)
    const table = awsResourceType('AWS::DynamoDB::GlobalTable')!
    const [nested] = [...table.nestedProperties].find(([path]) => path.includes('.*.')) ?? []
    expect(nested).toBeDefined()
    const path = nested!.split('.').map((s) => (s === '*' ? '3' : s))
    expect(replacementOf('AWS::DynamoDB::GlobalTable', path)).toBe(table.nestedProperties.get(nested!))
  })

  test('the properties as a whole: conditional when anything replaces, else in place', () => {
    expect(replacementOf('AWS::Route53::HostedZone', [])).toBe('conditional')
    expect(replacementOf('AWS::Route53::DelegationSet', [])).toBe(false)
  })
})

describe('loading', () => {
  test('one lookup reads the index and the one service file of the type, once', async () => {
    vi.resetModules()
    const fresh = await import('./aws.ts')
    fresh.provideAwsResourceIndex(readAwsIndexFile)
    expect(fresh.resourceTypeFilesRead()).toEqual([])
    expect(fresh.isKnownAwsResourceType('AWS::EC2::VPC')).toBe(true)
    expect(fresh.resourceTypeFilesRead()).toEqual(['index'])
    fresh.awsResourceType('AWS::Route53::HostedZone')
    fresh.awsResourceType('AWS::Route53::RecordSet')
    fresh.replacementOf('AWS::Route53::HostedZone', ['Name'])
    fresh.allAwsResourceTypes()
    expect(fresh.resourceTypeFilesRead()).toEqual(['index', 'route53'])
    fresh.awsResourceType('AWS::EC2::VPC')
    expect(fresh.resourceTypeFilesRead()).toEqual(['index', 'route53', 'ec2'])
  })

  test('core reads nothing itself: without an index given, a lookup says what is missing', async () => {
    vi.resetModules()
    const fresh = await import('./aws.ts')
    expect(() => fresh.isKnownAwsResourceType('AWS::EC2::VPC')).toThrow(/index was not provided/)
    const read = vi.fn(readAwsIndexFile)
    fresh.provideAwsResourceIndex(read)
    expect(fresh.isKnownAwsResourceType('AWS::EC2::VPC')).toBe(true)
    expect(read.mock.calls).toEqual([['index']])
  })

  test('the runtime never loads the specification package (only the generator and the tests do)', () => {
    for (const file of ['./aws.ts', './aws-index.ts', './kubernetes.ts']) {
      expect(readFileSync(new URL(file, import.meta.url), 'utf8'), file).not.toMatch(
        /from '@aws-cdk\/aws-service-spec'/,
      )
    }
  })
})
