import { describe, expect, test } from 'vitest'
import { parse } from 'yaml'
import { DiagnosticSink } from '../diagnostics.ts'
import { toLongForm } from '../yaml/cfn-tags.ts'
import { parseYamlFile } from '../yaml/parse.ts'
import { evaluateTemplate, isKnown, referencedResources, type TemplateInputs } from './evaluate.ts'

const inputs = (parameters: Record<string, string> = {}, region = 'eu-central-1'): TemplateInputs => ({
  parameters: new Map(Object.entries(parameters)),
  accountId: '123456789012',
  region,
  stackName: 'dns',
})

/** A template written in YAML with CloudFormation's short tags, in long form as the evaluator takes it. */
function template(text: string): Record<string, unknown> {
  const sink = new DiagnosticSink()
  const parsed = parseYamlFile('stack.yaml', text, sink)
  if (!parsed) throw new Error(sink.errors.map((e) => e.message).join('; '))
  return toLongForm(parsed.documents[0]!.value) as Record<string, unknown>
}

describe('conditions', () => {
  const zone = (conditions: string, condition = 'CreateZone') =>
    template(`Parameters:
  Env: { Type: String }
  Enabled: { Type: String, Default: "true" }
Conditions:
${conditions}
Resources:
  Zone:
    Type: AWS::Route53::HostedZone
    Condition: ${condition}
    Properties: { Name: example.org. }
  Topic:
    Type: AWS::SNS::Topic
`)

  test.each([
    [
      'Fn::Equals on a parameter',
      '  CreateZone: !Equals [!Ref Env, production]',
      { Env: 'production' },
      true,
    ],
    ['Fn::Equals false', '  CreateZone: !Equals [!Ref Env, production]', { Env: 'staging' }, false],
    ['Fn::Not', '  CreateZone: !Not [!Equals [!Ref Env, test]]', { Env: 'test' }, false],
    ['a default', '  CreateZone: !Equals [!Ref Enabled, "true"]', { Env: 'x' }, true],
    [
      'a default overridden',
      '  CreateZone: !Equals [!Ref Enabled, "true"]',
      { Env: 'x', Enabled: 'false' },
      false,
    ],
    [
      'Fn::And',
      '  IsProd: !Equals [!Ref Env, production]\n  CreateZone: !And [!Condition IsProd, !Equals [!Ref Enabled, "true"]]',
      { Env: 'production', Enabled: 'false' },
      false,
    ],
    [
      'Fn::Or',
      '  IsProd: !Equals [!Ref Env, production]\n  CreateZone: !Or [!Condition IsProd, !Equals [!Ref "AWS::Region", eu-central-1]]',
      { Env: 'staging' },
      true,
    ],
    [
      'a pseudo parameter',
      '  CreateZone: !Equals [!Ref "AWS::AccountId", "123456789012"]',
      { Env: 'x' },
      true,
    ],
    ['AWS::Partition', '  CreateZone: !Equals [!Ref "AWS::Partition", aws-cn]', { Env: 'x' }, false],
    [
      'a Condition reference chain',
      '  A: !Equals [a, b]\n  B: !Not [!Condition A]\n  CreateZone: !Condition B',
      {},
      true,
    ],
    [
      'a mapping',
      '  CreateZone: !Equals [!FindInMap [Zones, !Ref "AWS::Region", create], "yes"]',
      { Env: 'x' },
      false,
    ],
  ])('%s', (_name, conditions, parameters, holds) => {
    const t = zone(conditions)
    t.Mappings = { Zones: { 'eu-central-1': { create: 'no' } } }
    const result = evaluateTemplate(t, inputs(parameters))
    expect(result.problems).toEqual([])
    expect(Object.keys(result.resources).includes('Zone')).toBe(holds)
    expect(result.excluded.has('Zone')).toBe(!holds)
    // A resource without a condition is always there, and the held condition is not left on the resource.
    expect(result.resources.Topic).toEqual({ Type: 'AWS::SNS::Topic' })
    if (holds) expect(result.resources.Zone).not.toHaveProperty('Condition')
  })

  test('an undefined condition is a problem at its path, and the resource is kept (fail closed)', () => {
    const result = evaluateTemplate(zone('  CreateZone: !Equals [a, a]', 'Createzone'), inputs({ Env: 'x' }))
    expect(result.problems).toEqual([
      {
        path: ['Resources', 'Zone', 'Condition'],
        message:
          'condition "Createzone" is not defined in the Conditions section; did you mean "CreateZone"?',
        severity: 'error',
      },
    ])
    expect(result.resources.Zone).toMatchObject({ Condition: 'Createzone' })
  })

  test('a cycle of conditions is a problem, not a stack overflow', () => {
    const result = evaluateTemplate(
      zone('  CreateZone: !Condition Other\n  Other: !Not [!Condition CreateZone]'),
      inputs(),
    )
    expect(result.problems.map((p) => p.message)).toEqual([expect.stringContaining('refers to itself')])
  })

  test('a condition reading a value known only at deploy time is unknown, and its resource kept', () => {
    const t = template(`Parameters:
  Flag: { Type: "AWS::SSM::Parameter::Value<String>", Default: /flags/zone }
Conditions:
  CreateZone: !Equals [!Ref Flag, "on"]
  Never: !And [!Condition CreateZone, !Equals [a, b]]
Resources:
  Zone: { Type: AWS::Route53::HostedZone, Condition: CreateZone, Properties: { Name: x. } }
`)
    const result = evaluateTemplate(t, inputs({ Flag: '/flags/zone' }))
    expect(result.conditions.get('CreateZone')).toBe('unknown')
    // false && unknown is still false: three-valued logic, as CloudFormation decides it.
    expect(result.conditions.get('Never')).toBe(false)
    expect(result.resources.Zone).toMatchObject({ Condition: 'CreateZone' })
  })
})

describe('intrinsic functions in properties', () => {
  const evaluate = (properties: string, parameters: Record<string, string> = {}, extra = '') =>
    evaluateTemplate(
      template(`Parameters:
  Env: { Type: String, Default: staging }
  Names: { Type: CommaDelimitedList, Default: "a, b,c" }
  Ids: { Type: "List<AWS::EC2::Subnet::Id>", Default: "subnet-1,subnet-2" }
Conditions:
  IsProd: !Equals [!Ref Env, production]
Mappings:
  Buckets:
    eu-central-1: { name: logs-eu }
    us-east-1: { name: logs-us }
${extra}
Resources:
  Other: { Type: AWS::SNS::Topic }
  Thing:
    Type: AWS::S3::Bucket
    Properties:
${properties}
`),
      inputs(parameters),
    )
  const properties = (properties: string, parameters: Record<string, string> = {}) => {
    const result = evaluate(properties, parameters)
    expect(result.problems).toEqual([])
    return (result.resources.Thing as { Properties: Record<string, unknown> }).Properties
  }

  test('Fn::If picks a branch; AWS::NoValue removes the property or the item', () => {
    expect(
      properties(
        '      A: !If [IsProd, prod, other]\n      B: !If [IsProd, x, !Ref "AWS::NoValue"]\n      C: [one, !If [IsProd, two, !Ref "AWS::NoValue"], three]',
      ),
    ).toEqual({ A: 'other', C: ['one', 'three'] })
    expect(properties('      A: !If [IsProd, prod, other]', { Env: 'production' })).toEqual({ A: 'prod' })
  })

  test('Fn::FindInMap with a region key, and its DefaultValue', () => {
    expect(properties('      BucketName: !FindInMap [Buckets, !Ref "AWS::Region", name]')).toEqual({
      BucketName: 'logs-eu',
    })
    expect(
      properties('      BucketName: !FindInMap [Buckets, ap-south-1, name, { DefaultValue: fallback }]'),
    ).toEqual({ BucketName: 'fallback' })
  })

  test('a missing mapping key is a problem CloudFormation would fail on', () => {
    const result = evaluate('      BucketName: !FindInMap [Buckets, !Ref Env, name]')
    expect(result.problems).toEqual([
      {
        path: ['Resources', 'Thing', 'Properties', 'BucketName', 'Fn::FindInMap'],
        message:
          'mapping "Buckets" has no key "staging" (keys: eu-central-1, us-east-1); CloudFormation would fail to create or update the stack here',
        severity: 'warning',
      },
    ])
  })

  test('Fn::Join, Fn::Sub, Fn::Select, Fn::Split and list parameters', () => {
    expect(
      properties(`      Joined: !Join ["-", [!Ref Env, !Ref "AWS::Region", !Select [1, !Ref Names]]]
      Sub: !Sub "\${Env}-\${AWS::AccountId}-\${Other}"
      SubVars: !Sub ["\${A}.\${Env}", { A: !FindInMap [Buckets, us-east-1, name] }]
      Escaped: !Sub "\${!Literal}-\${Env}"
      Split: !Select [2, !Split [".", a.b.c]]
      Ids: !Ref Ids`),
    ).toMatchObject({
      Joined: 'staging-eu-central-1-b',
      Sub: { 'Fn::Sub': 'staging-123456789012-${Other}' },
      SubVars: 'logs-us.staging',
      Escaped: '${Literal}-staging',
      Split: 'c',
      Ids: ['subnet-1', 'subnet-2'],
    })
  })

  test('values known only at deploy time stay as functions, with what is known resolved', () => {
    const p = properties(`      Arn: !GetAtt Other.TopicName
      Ref: !Ref Other
      Import: !ImportValue { "Fn::Sub": "\${Env}-vpc" }
      Secret: "{{resolve:secretsmanager:db:SecretString:password}}"
      Sub: !Sub "arn:\${AWS::Partition}:sns:\${AWS::Region}:\${AWS::AccountId}:\${Other.TopicName}"
      Known: !Base64 { "Fn::Sub": "echo \${Env}" }`)
    expect(p.Arn).toEqual({ 'Fn::GetAtt': ['Other', 'TopicName'] })
    expect(p.Ref).toEqual({ Ref: 'Other' })
    expect(p.Import).toEqual({ 'Fn::ImportValue': 'staging-vpc' })
    expect(p.Sub).toEqual({ 'Fn::Sub': 'arn:aws:sns:eu-central-1:123456789012:${Other.TopicName}' })
    for (const key of ['Arn', 'Ref', 'Import', 'Secret', 'Sub']) expect(isKnown(p[key]), key).toBe(false)
    expect(p.Known).toEqual({ 'Fn::Base64': 'echo staging' })
    expect(isKnown(p.Known)).toBe(true)
  })

  test('a Ref to nothing of the template is a problem; with a transform it may be a generated name', () => {
    expect(evaluate('      A: !Ref Nothing').problems.map((p) => p.message)).toEqual([
      'Ref "Nothing" names no parameter, resource or pseudo parameter of this template',
    ])
    expect(evaluate('      A: !Ref Nothing', {}, 'Transform: AWS::Serverless-2016-10-31').problems).toEqual(
      [],
    )
  })

  test('Fn::Select outside its list is a problem', () => {
    expect(evaluate('      A: !Select [5, !Ref Names]').problems.map((p) => p.message)).toEqual([
      'Fn::Select index 5 is outside the list of 3; CloudFormation would fail to create or update the stack here',
    ])
  })

  test('malformed functions are problems, never exceptions', () => {
    for (const body of [
      '      A: !If [IsProd]',
      '      A: !Join [1, 2, 3]',
      '      A: !FindInMap [Buckets]',
      '      A: !Select x',
      '      A: !Split [1, 2]',
      '      A: !Sub [1, 2]',
    ]) {
      const result = evaluate(body)
      expect(result.problems.length, body).toBe(1)
    }
  })
})

test('referencedResources finds Ref, GetAtt (both forms) and ${} in Sub', () => {
  const value = parse(`
- { Ref: A }
- { "Fn::GetAtt": [B, Arn] }
- { "Fn::GetAtt": C.Arn }
- { "Fn::Sub": "\${D}-\${E.Name}-\${!F}-\${Param}" }
`)
  expect([...referencedResources(value, new Set(['A', 'B', 'C', 'D', 'E', 'F']))].sort()).toEqual([
    'A',
    'B',
    'C',
    'D',
    'E',
  ])
})
