import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec'
import { describe, expect, test } from 'vitest'
import { isKnownAwsResourceType } from './aws.ts'
import { type ResourceSpec, type SpecResource, specOf } from './aws-index.ts'
import { AWS_STATEFUL_SOURCE, AWS_STATEFUL_TYPES } from './aws-stateful.ts'
import {
  STATEFUL_TYPES_FILE,
  statefulSourceOf,
  statefulTypesModule,
  statefulTypesOf,
} from './stateful-build.ts'

const SOURCE = { packageName: '@aws-cdk/aws-service-spec', version: '9.9.9', license: 'Apache-2.0' }

/** A specification of just these resources (the builder reads nothing else). */
function fakeSpec(resources: Partial<SpecResource>[]): ResourceSpec {
  return {
    resources: resources.map((r) => ({ cloudFormationType: 'AWS::Demo::Thing', properties: {}, ...r })),
    typeDefinition: () => ({ properties: {} }),
  }
}

describe('the checked-in list of stateful types', () => {
  test('is what the installed specification gives (else: run npm run resource-types)', () => {
    const installed = statefulSourceOf(
      createRequire(import.meta.url)('@aws-cdk/aws-service-spec/package.json'),
    )
    const expected = statefulTypesModule(specOf(loadAwsServiceSpecSync()), installed)
    const present = readFileSync(new URL(STATEFUL_TYPES_FILE, import.meta.url), 'utf8')
    expect(
      present,
      `src/core/resource-types/${STATEFUL_TYPES_FILE} is stale: run npm run resource-types`,
    ).toBe(expected)
    expect(AWS_STATEFUL_SOURCE).toBe(`${installed.packageName} ${installed.version}`)
  })

  test('is well-formed: sorted, unique, frozen, every entry a type of the resource index', () => {
    expect(AWS_STATEFUL_TYPES.length).toBeGreaterThan(20)
    expect([...AWS_STATEFUL_TYPES].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(AWS_STATEFUL_TYPES)
    expect(new Set(AWS_STATEFUL_TYPES).size).toBe(AWS_STATEFUL_TYPES.length)
    expect(Object.isFrozen(AWS_STATEFUL_TYPES)).toBe(true)
    for (const type of AWS_STATEFUL_TYPES) expect(isKnownAwsResourceType(type), type).toBe(true)
  })

  test.each([
    // relational and document databases and their clusters
    'AWS::RDS::DBCluster',
    'AWS::RDS::DBInstance',
    'AWS::DocDB::DBCluster',
    'AWS::Neptune::DBCluster',
    'AWS::Redshift::Cluster',
    // tables and global tables
    'AWS::DynamoDB::Table',
    'AWS::DynamoDB::GlobalTable',
    // file systems and volumes
    'AWS::EFS::FileSystem',
    'AWS::FSx::FileSystem',
    'AWS::EC2::Volume',
    // identity, secrets and keys
    'AWS::Cognito::UserPool',
    'AWS::SecretsManager::Secret',
    'AWS::KMS::Key',
    // streams and queues
    'AWS::Kinesis::Stream',
    'AWS::SQS::Queue',
    // search domains and caches
    'AWS::OpenSearchService::Domain',
    'AWS::Elasticsearch::Domain',
    'AWS::ElastiCache::ReplicationGroup',
    // objects and logs
    'AWS::S3::Bucket',
    'AWS::Logs::LogGroup',
  ])('includes %s', (type) => {
    expect(AWS_STATEFUL_TYPES).toContain(type)
  })

  test.each(['AWS::SNS::Topic', 'AWS::EC2::Subnet', 'AWS::Lambda::Function', 'AWS::IAM::Policy'])(
    'leaves out the stateless %s',
    (type) => {
      expect(AWS_STATEFUL_TYPES).not.toContain(type)
    },
  )
})

describe('building the list', () => {
  test('takes the types marked stateful, sorted in code-unit order, each once', () => {
    const spec = fakeSpec([
      { cloudFormationType: 'AWS::Zeta::Store', isStateful: true },
      { cloudFormationType: 'AWS::Alpha::Topic' },
      { cloudFormationType: 'AWS::Alpha::Table', isStateful: true },
      { cloudFormationType: 'AWS::alpha::Lower', isStateful: true },
      { cloudFormationType: 'AWS::Beta::Cache', isStateful: false },
      { cloudFormationType: 'AWS::Zeta::Store', isStateful: true },
    ])
    expect(statefulTypesOf(spec)).toEqual(['AWS::Alpha::Table', 'AWS::Zeta::Store', 'AWS::alpha::Lower'])
  })

  test('the module names its source, version and licenses, and lists the types', () => {
    const text = statefulTypesModule(
      fakeSpec([
        { cloudFormationType: 'AWS::Demo::Table', isStateful: true },
        { cloudFormationType: 'AWS::Demo::Queue', isStateful: true },
      ]),
      SOURCE,
    )
    expect(text).toContain(
      '// Source: the `isStateful` flag of @aws-cdk/aws-service-spec 9.9.9 (Apache-2.0),',
    )
    expect(text).toContain('cfn-lint')
    expect(text).toContain('MIT-0')
    expect(text).toContain("export const AWS_STATEFUL_SOURCE = '@aws-cdk/aws-service-spec 9.9.9'")
    expect(text).toContain("([\n  'AWS::Demo::Queue',\n  'AWS::Demo::Table',\n])\n")
    expect(text).toContain('Sorted; 2 types.')
  })

  test('a specification without the flag is an error, not an empty list that protects nothing', () => {
    expect(() => statefulTypesOf(fakeSpec([{ cloudFormationType: 'AWS::Demo::Table' }]))).toThrow(
      /marks no type as stateful/,
    )
  })

  test.each(["AWS::Demo::Bad'Name", 'Custom::Thing', 'AWS::Demo::Thing::MODULE'])(
    'a stateful type named %j is an error (it could not be written into the module safely)',
    (type) => {
      expect(() => statefulTypesOf(fakeSpec([{ cloudFormationType: type, isStateful: true }]))).toThrow(
        `unexpected stateful resource type name "${type}"`,
      )
    },
  )

  test.each(['name', 'version', 'license'])('a package.json without "%s" cannot name the source', (field) => {
    const packageJson: Record<string, string> = { name: 'p', version: '1.0.0', license: 'MIT' }
    delete packageJson[field]
    expect(() => statefulSourceOf(packageJson)).toThrow(`the specification's package.json has no "${field}"`)
    expect(statefulSourceOf({ name: 'p', version: '1.0.0', license: 'MIT' })).toEqual({
      packageName: 'p',
      version: '1.0.0',
      license: 'MIT',
    })
  })
})
