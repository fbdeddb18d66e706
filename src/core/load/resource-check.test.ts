import { describe, expect, test } from 'vitest'
import { edit, errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'

const DNS = 'stacks/dns.yaml'
const FILE = 'stacks/extra.yaml'

/** A stack file named `extra` with `resources` (indented by two spaces) and optional top-level sections. */
function stackWith(resources: string, top = ''): Record<string, string> {
  return { [FILE]: `${top}Metadata:\n  StackName: extra\nResources:\n${resources}` }
}

describe('stacks: resource types', () => {
  test('a misspelt type, at its value, with the closest type', () => {
    expect(errorsFor(edit(DNS, 'Type: AWS::Route53::HostedZone', 'Type: AWS::Route53::HostedZon'))).toEqual([
      'stacks/dns.yaml:13:11: unknown resource type "AWS::Route53::HostedZon"; did you mean "AWS::Route53::HostedZone"?',
    ])
  })

  test('a type in the wrong case', () => {
    expect(errorsFor(stackWith('  Bucket:\n    Type: Aws::S3::Bucket\n'))).toEqual([
      'stacks/extra.yaml:5:11: unknown resource type "Aws::S3::Bucket"; did you mean "AWS::S3::Bucket"?',
    ])
  })

  test('a type nothing is close to', () => {
    expect(errorsFor(stackWith('  Thing:\n    Type: AWS::Teapot::Kettle\n'))).toEqual([
      'stacks/extra.yaml:5:11: unknown resource type "AWS::Teapot::Kettle" (not in the CloudFormation resource specification)',
    ])
  })

  test('custom resources, modules and third-party types are not checked', () => {
    loadValid(
      stackWith(
        [
          '  Record:',
          '    Type: Custom::DnsRecord',
          '    Properties: { ServiceToken: arn, Anything: 1 }',
          '  Generic:',
          '    Type: AWS::CloudFormation::CustomResource',
          '    Properties: { ServiceToken: arn, Zone: example.org }',
          '  Module:',
          '    Type: My::Org::Network::MODULE',
          '    Properties: { Cidr: 10.0.0.0/16 }',
          '  Monitor:',
          '    Type: Datadog::Monitors::Monitor',
          '    Properties: { Query: avg }',
          '',
        ].join('\n'),
      ),
    )
  })

  test('a template with a macro is not checked: the macro may rewrite it', () => {
    loadValid(
      stackWith(
        '  Thing:\n    Type: AWS::Teapot::Kettle\n    Properties: { Spout: 1 }\n',
        'Transform: [Boilerplate]\n',
      ),
    )
    expect(
      errorsFor(
        stackWith('  Thing:\n    Type: AWS::Teapot::Kettle\n', 'Transform: AWS::LanguageExtensions\n'),
      ),
    ).toEqual([
      'stacks/extra.yaml:6:11: unknown resource type "AWS::Teapot::Kettle" (not in the CloudFormation resource specification)',
    ])
  })

  test("SAM's types are left to SAM's transform; without it they are an error", () => {
    const sam = [
      '  Function:',
      '    Type: AWS::Serverless::Function',
      '    Properties: { Handler: index.handler, SnapStart: { ApplyOn: PublishedVersions } }',
      '  Connector:',
      '    Type: AWS::Serverless::Connector',
      '    Properties: { Source: { Id: Function } }',
      '',
    ].join('\n')
    loadValid(stackWith(sam, "Transform: 'AWS::Serverless-2016-10-31'\n"))
    expect(errorsFor(stackWith('  Function:\n    Type: AWS::Serverless::Function\n'))).toEqual([
      'stacks/extra.yaml:5:11: AWS::Serverless::Function exists only with the AWS::Serverless-2016-10-31 transform; add "Transform: AWS::Serverless-2016-10-31" to the template',
    ])
  })

  test('Fn::ForEach entries are left to the LanguageExtensions transform', () => {
    loadValid(
      stackWith(
        [
          '  Fn::ForEach::Topics:',
          '    - Name',
          '    - [a, b]',
          '    - Topic${Name}:',
          '        Type: AWS::SNS::Topik',
          '',
        ].join('\n'),
        'Transform: AWS::LanguageExtensions\n',
      ),
    )
  })
})

describe('stacks: resource property names', () => {
  test('a misspelt property, at its key, with the closest property', () => {
    expect(errorsFor(edit(DNS, '      DomainName: "*.', '      DomainNmae: "*.'))).toEqual([
      'stacks/dns.yaml:19:7: AWS::CertificateManager::Certificate has no property "DomainNmae"; did you mean "DomainName"?',
    ])
  })

  test('a property in the wrong case', () => {
    expect(errorsFor(edit(DNS, 'ValidationMethod: DNS', 'validationMethod: DNS'))).toEqual([
      'stacks/dns.yaml:20:7: AWS::CertificateManager::Certificate has no property "validationMethod"; did you mean "ValidationMethod"?',
    ])
  })

  test('a property nothing is close to: the type’s properties are listed, unless there are many', () => {
    expect(errorsFor(edit(DNS, '      Name: !Sub', '      Owner: teapot\n      Name: !Sub'))).toEqual([
      'stacks/dns.yaml:15:7: AWS::Route53::HostedZone has no property "Owner" (its properties: HostedZoneConfig, HostedZoneFeatures, HostedZoneTags, Name, QueryLoggingConfig, VPCs)',
    ])
    expect(
      errorsFor(stackWith('  Bucket:\n    Type: AWS::S3::Bucket\n    Properties: { Owner: teapot }\n')),
    ).toEqual(['stacks/extra.yaml:6:19: AWS::S3::Bucket has no property "Owner"'])
  })

  test('every unknown property of every resource is reported', () => {
    const resources = [
      '  Topic:',
      '    Type: AWS::SNS::Topic',
      '    Properties:',
      '      TopicNmae: alerts',
      '      DisplyName: Alerts',
      '  Queue:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      QueueNmae: jobs',
      '',
    ].join('\n')
    expect(errorsFor(stackWith(resources))).toEqual([
      'stacks/extra.yaml:7:7: AWS::SNS::Topic has no property "TopicNmae"; did you mean "TopicName"?',
      'stacks/extra.yaml:8:7: AWS::SNS::Topic has no property "DisplyName"; did you mean "DisplayName"?',
      'stacks/extra.yaml:12:7: AWS::SQS::Queue has no property "QueueNmae"; did you mean "QueueName"?',
    ])
  })

  test('properties chosen by an intrinsic function, and Fn:: keys among them, are left alone', () => {
    loadValid(
      stackWith(
        [
          '  Topic:',
          '    Type: AWS::SNS::Topic',
          '    Properties: !If [IsProd, { TopicName: prod, Anything: 1 }, !Ref AWS::NoValue]',
          '  Queue:',
          '    Type: AWS::SQS::Queue',
          '    Properties:',
          '      QueueName: jobs',
          "      Fn::Transform: { Name: 'AWS::Include', Parameters: { Location: s3://bucket/queue.yaml } }",
          '',
        ].join('\n'),
        'Conditions:\n  IsProd: !Equals [a, a]\n',
      ),
    )
  })

  test('property values are not checked, only names: templates and intrinsics in values are fine', () => {
    loadValid(
      stackWith(
        '  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: "{{ account.name }}"\n      DisplayName: !Ref AWS::StackName\n',
      ),
    )
  })
})
