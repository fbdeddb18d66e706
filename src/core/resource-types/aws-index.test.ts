import { readdirSync, readFileSync } from 'node:fs'
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec'
import { describe, expect, test } from 'vitest'
import {
  buildAwsIndex,
  identifyingProperties,
  indexedType,
  type ResourceSpec,
  type SpecProperty,
  type SpecResource,
  serviceFileOf,
  specOf,
} from './aws-index.ts'

const DIR = new URL('./aws/', import.meta.url)

describe('the checked-in index', () => {
  test('is what the installed specification gives (else: run npm run resource-types)', () => {
    const expected = buildAwsIndex(specOf(loadAwsServiceSpecSync()))
    const present = readdirSync(DIR).filter((name) => name.endsWith('.json'))
    const stale = [
      ...[...expected.keys()].filter((name) => !present.includes(name)).map((name) => `${name} is missing`),
      ...present
        .filter((name) => !expected.has(name))
        .map((name) => `${name} is no longer in the specification`),
      ...present
        .filter(
          (name) => expected.has(name) && readFileSync(new URL(name, DIR), 'utf8') !== expected.get(name),
        )
        .map((name) => `${name} differs`),
    ]
    expect(stale, 'src/core/resource-types/aws/ is stale: run npm run resource-types').toEqual([])
  })

  test('holds every type of the specification, each in the file its name gives', () => {
    const index = JSON.parse(readFileSync(new URL('index.json', DIR), 'utf8')) as Record<string, string[]>
    const types = Object.values(index).flat()
    expect(types.length).toBeGreaterThan(1800)
    expect(new Set(types).size).toBe(types.length)
    for (const [file, names] of Object.entries(index)) {
      for (const name of names) expect(serviceFileOf(name), name).toBe(file)
    }
    expect(index['alexa-ask']).toEqual(['Alexa::ASK::Skill'])
  })
})

describe('serviceFileOf', () => {
  test.each([
    ['AWS::Route53::HostedZone', 'route53'],
    ['AWS::EC2::VPC', 'ec2'],
    ['Alexa::ASK::Skill', 'alexa-ask'],
    ['Custom::Thing', undefined],
    ['AWS::S3::Bucket::MODULE', undefined],
    ['AWS::S3', undefined],
  ])('%s → %s', (type, file) => {
    expect(serviceFileOf(type)).toBe(file)
  })
})

/** A tiny specification: a resource and type definitions, as the database shapes them. */
function fakeSpec(resources: SpecResource[], definitions: Record<string, Record<string, SpecProperty>> = {}) {
  const spec: ResourceSpec = {
    resources,
    typeDefinition: (id) => ({ properties: definitions[id]! }),
  }
  return spec
}

const str = { type: { type: 'string' } } as const
const ref = (id: string) => ({ type: 'ref', reference: { $ref: id } }) as const

describe('building the index', () => {
  test('top-level codes, sorted; identifying properties from the writable primary identifier', () => {
    const resource: SpecResource = {
      cloudFormationType: 'AWS::Demo::Thing',
      primaryIdentifier: ['Arn', 'ThingName'],
      properties: {
        Zeta: { ...str, causesReplacement: 'maybe' },
        ThingName: { ...str, causesReplacement: 'yes' },
        Alpha: str,
      },
    }
    const entry = indexedType(fakeSpec([resource]), resource)
    expect(JSON.stringify(entry)).toBe('{"p":{"Alpha":"n","ThingName":"y","Zeta":"m"},"id":["ThingName"]}')
  })

  test('without a writable primary identifier: the replacing properties named …Name; else none', () => {
    const base = { cloudFormationType: 'AWS::Demo::Zone', primaryIdentifier: ['Id'] }
    expect(
      identifyingProperties({
        ...base,
        properties: {
          Name: { ...str, causesReplacement: 'yes' },
          DisplayName: str,
          VpcId: { ...str, causesReplacement: 'yes' },
        },
      }),
    ).toEqual(['Name'])
    expect(identifyingProperties({ ...base, properties: { Comment: str } })).toEqual([])
  })

  test('nested properties that replace more than their top-level property, through refs, lists and maps', () => {
    const resource: SpecResource = {
      cloudFormationType: 'AWS::Demo::Budget',
      properties: {
        Budget: { type: ref('1') },
        Rules: { type: { type: 'array', element: ref('2') } },
        Fixed: { type: ref('1'), causesReplacement: 'yes' },
        Loop: { type: ref('3') },
      },
      additionalReplacementProperties: [['Rules', '*', 'Note']],
    }
    const spec = fakeSpec([resource], {
      '1': { BudgetName: { ...str, causesReplacement: 'yes' }, Amount: str },
      '2': { Kind: { ...str, causesReplacement: 'maybe' }, Note: str },
      // A recursive type must not loop forever.
      '3': { Self: { type: ref('3') }, Key: { ...str, causesReplacement: 'yes' } },
    })
    expect(indexedType(spec, resource).x).toEqual({
      'Budget.BudgetName': 'y',
      'Loop.Key': 'y',
      'Loop.Self': 'm', // the recursion is cut here: a change below may replace
      'Rules.*.Kind': 'm',
      'Rules.*.Note': 'y',
    })
  })

  test("a transform's type records the transform", () => {
    const resource: SpecResource = {
      cloudFormationType: 'AWS::Serverless::Function',
      cloudFormationTransform: 'AWS::Serverless-2016-10-31',
      properties: { Handler: { ...str, causesReplacement: 'yes' } },
    }
    expect(indexedType(fakeSpec([resource]), resource).t).toBe('AWS::Serverless-2016-10-31')
  })

  test('one type per line, files and keys in a fixed order; index.json lists the types of each file', () => {
    const files = buildAwsIndex(
      fakeSpec([
        {
          cloudFormationType: 'AWS::S3::Bucket',
          properties: { BucketName: { ...str, causesReplacement: 'yes' } },
        },
        { cloudFormationType: 'AWS::EC2::VPC', properties: {} },
        { cloudFormationType: 'AWS::EC2::Subnet', properties: {} },
      ]),
    )
    expect([...files.keys()]).toEqual(['ec2.json', 's3.json', 'index.json'])
    expect(files.get('ec2.json')).toBe('{\n"AWS::EC2::Subnet":{"p":{}},\n"AWS::EC2::VPC":{"p":{}}\n}\n')
    expect(files.get('index.json')).toBe(
      '{\n"ec2":["AWS::EC2::Subnet","AWS::EC2::VPC"],\n"s3":["AWS::S3::Bucket"]\n}\n',
    )
  })

  test('a type listed twice or a name that is not Vendor::Service::Name is an error', () => {
    const twice = { cloudFormationType: 'AWS::EC2::VPC', properties: {} }
    expect(() => buildAwsIndex(fakeSpec([twice, twice]))).toThrow('appears twice')
    expect(() => buildAwsIndex(fakeSpec([{ cloudFormationType: 'AWS::EC2', properties: {} }]))).toThrow(
      'unexpected resource type name',
    )
  })
})
