import { describe, expect, test } from 'vitest'
import { AWS_STATEFUL_TYPES } from '../resource-types/aws-stateful.ts'
import { STATEFUL_SUPPLEMENT } from '../resource-types/stateful-supplement.ts'
import {
  BASE_PROTECTED_TYPES,
  BUILTIN_PROTECTED_KINDS,
  BUILTIN_PROTECTED_TYPES,
  protectedTypes,
  STATEFUL_PROTECTED_TYPES,
} from './protected.ts'

describe('the built-in protected types', () => {
  test('are the base list, every generated stateful type and the supplement: sorted, each once', () => {
    const expected = new Set([
      ...BASE_PROTECTED_TYPES,
      ...AWS_STATEFUL_TYPES,
      ...STATEFUL_SUPPLEMENT.map((entry) => entry.type),
    ])
    expect(new Set(BUILTIN_PROTECTED_TYPES)).toEqual(expected)
    expect(BUILTIN_PROTECTED_TYPES).toHaveLength(expected.size)
    expect([...BUILTIN_PROTECTED_TYPES].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
      BUILTIN_PROTECTED_TYPES,
    )
    expect(STATEFUL_PROTECTED_TYPES.every((type) => BUILTIN_PROTECTED_TYPES.includes(type))).toBe(true)
  })

  test('keep the base list of the repository format, identity and network included', () => {
    expect(BASE_PROTECTED_TYPES).toEqual([
      'AWS::Route53::HostedZone',
      'AWS::CertificateManager::Certificate',
      'AWS::EC2::VPC',
      'AWS::IAM::Role',
      'AWS::KMS::Key',
      'AWS::S3::Bucket',
      'AWS::RDS::DBInstance',
      'AWS::DynamoDB::Table',
    ])
  })

  test('cannot be changed at run time', () => {
    for (const list of [
      BASE_PROTECTED_TYPES,
      STATEFUL_PROTECTED_TYPES,
      BUILTIN_PROTECTED_TYPES,
      BUILTIN_PROTECTED_KINDS,
    ])
      expect(Object.isFrozen(list)).toBe(true)
  })
})

describe('protectedTypes', () => {
  const isProtected = protectedTypes([])

  test.each([
    // identity and network (the base list)
    'AWS::Route53::HostedZone',
    'AWS::CertificateManager::Certificate',
    'AWS::EC2::VPC',
    'AWS::IAM::Role',
    // relational and document databases and their clusters
    'AWS::RDS::DBCluster',
    'AWS::RDS::DBInstance',
    'AWS::DocDB::DBCluster',
    'AWS::DocDB::DBInstance',
    'AWS::DocDBElastic::Cluster',
    'AWS::Neptune::DBCluster',
    'AWS::Redshift::Cluster',
    'AWS::MemoryDB::Cluster',
    // tables, global tables, caches
    'AWS::DynamoDB::Table',
    'AWS::DynamoDB::GlobalTable',
    'AWS::ElastiCache::ReplicationGroup',
    'AWS::ElastiCache::CacheCluster',
    // file systems
    'AWS::EFS::FileSystem',
    'AWS::FSx::FileSystem',
    // user pools, secrets, keys
    'AWS::Cognito::UserPool',
    'AWS::SecretsManager::Secret',
    'AWS::KMS::Key',
    // streams and queues with messages
    'AWS::Kinesis::Stream',
    'AWS::MSK::Cluster',
    'AWS::SQS::Queue',
    'AWS::AmazonMQ::Broker',
    // search domains
    'AWS::OpenSearchService::Domain',
    'AWS::Elasticsearch::Domain',
    'AWS::OpenSearchServerless::Collection',
    // nested stacks hide what they hold from the plan
    'AWS::CloudFormation::Stack',
  ])('%s is protected by default', (type) => {
    expect(isProtected(type)).toBe(true)
  })

  test.each([
    'AWS::SNS::Topic',
    'AWS::EC2::Subnet',
    'AWS::EC2::SecurityGroup',
    'AWS::Lambda::Function',
    'AWS::CloudWatch::Alarm',
    'AWS::SQS::QueuePolicy',
    'AWS::RDS::DBSubnetGroup',
    'Custom::Database',
  ])('%s is not protected by default', (type) => {
    expect(isProtected(type)).toBe(false)
  })

  test('Kubernetes kinds are protected in every API version; fleet.yaml protect adds types and kinds', () => {
    expect(isProtected('v1/PersistentVolumeClaim')).toBe(true)
    expect(isProtected('apiextensions.k8s.io/v1/CustomResourceDefinition')).toBe(true)
    expect(isProtected('apps/v1/StatefulSet')).toBe(false)
    const extended = protectedTypes(['AWS::EC2::EIP', 'StatefulSet'])
    expect(extended('AWS::EC2::EIP')).toBe(true)
    expect(extended('apps/v1/StatefulSet')).toBe(true)
    expect(extended('AWS::SQS::Queue')).toBe(true)
  })
})
