import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'

const DNS = 'stacks/dns.yaml'

/** A small valid stack file with `metadata` as its Metadata block (indented by two spaces). */
function stack(metadata: string, rest = 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n'): string {
  return `Metadata:\n${metadata}${rest}`
}

describe('stacks: Metadata', () => {
  test('a misspelt Metadata section is one error, naming the closest section', () => {
    expect(errorsFor(edit(DNS, 'Metadata:', 'Metadpata:'))).toEqual([
      'stacks/dns.yaml:2:1: unknown key "Metadpata"; did you mean "Metadata"?',
    ])
  })

  test('a stack without Metadata.StackName', () => {
    expect(errorsFor(edit(DNS, '  StackName: route53-hostedzones\n', ''))).toEqual([
      'stacks/dns.yaml:3:3: missing required key "StackName"',
    ])
  })

  test('a stack without any Metadata', () => {
    expect(errorsFor({ 'stacks/bare.yaml': 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n' })).toEqual([
      'stacks/bare.yaml:1:1: missing required key "Metadata"',
    ])
  })

  test('an invalid StackName', () => {
    expect(errorsFor(edit(DNS, 'StackName: route53-hostedzones', 'StackName: route53_hostedzones'))).toEqual([
      'stacks/dns.yaml:3:14: invalid "StackName" "route53_hostedzones": a stack name starts with a letter and has letters, digits and dashes (at most 128)',
    ])
  })

  test('an unknown Scope.Type', () => {
    expect(errorsFor(edit(DNS, 'Type: global', 'Type: globl'))).toEqual([
      'stacks/dns.yaml:4:18: invalid value "globl" for "Type": expected one of region, global; did you mean "global"?',
    ])
  })

  test('a misspelt key inside Scope', () => {
    expect(errorsFor(edit(DNS, '{ Type: global }', '{ Typ: global }'))).toEqual([
      'stacks/dns.yaml:4:12: unknown key "Typ"; did you mean "Type"?',
    ])
  })

  test.each([
    ['StakName', '  StakName: x\n  Scope:', 'stacks/dns.yaml:4:3', 'StackName'],
    ['Selcet', '  Selcet: "true"\n  Scope:', 'stacks/dns.yaml:4:3', 'Select'],
    ['Scopes', '  Scopes: x\n  Scope:', 'stacks/dns.yaml:4:3', 'Scope'],
    ['MovedFrm', '  MovedFrm: x\n  Scope:', 'stacks/dns.yaml:4:3', 'MovedFrom'],
    ['parameters', '  parameters: {}\n  Scope:', 'stacks/dns.yaml:4:3', 'Parameters'],
  ])('a near miss of a Flotilla key (%s) is an error', (key, text, at, meant) => {
    expect(errorsFor(edit(DNS, '  Scope:', text))).toEqual([
      `${at}: unknown key "${key}" in Metadata; did you mean "${meant}"? (Flotilla's keys are StackName, Scope, Select, MovedFrom, Parameters)`,
    ])
  })

  test("other tools' Metadata keys pass through to the rendered template; Flotilla's are removed", () => {
    const metadata = [
      '  AWS::CloudFormation::Interface:',
      '    ParameterGroups: [{ Label: { default: Main }, Parameters: [DomainName] }]',
      '  cfn-lint: { config: { ignore_checks: [W3005] } }',
      '  License: Apache-2.0',
      '  StackName: route53-hostedzones',
      '',
    ].join('\n')
    const { fleet } = loadValid(edit(DNS, '  StackName: route53-hostedzones\n', metadata))
    const template = fleet.desired.get('111111111111')!.stacks[0]!.template as Record<string, unknown>
    expect(template.Metadata).toEqual({
      'AWS::CloudFormation::Interface': {
        ParameterGroups: [{ Label: { default: 'Main' }, Parameters: ['DomainName'] }],
      },
      'cfn-lint': { config: { ignore_checks: ['W3005'] } },
      License: 'Apache-2.0',
    })
  })

  test('Metadata with only Flotilla keys is dropped from the rendered template', () => {
    const template = loadValid().fleet.desired.get('111111111111')!.stacks[0]!.template
    expect(template).not.toHaveProperty('Metadata')
    expect(Object.keys(template as object)).toEqual(['AWSTemplateFormatVersion', 'Parameters', 'Resources'])
  })
})

describe('stacks: Parameters', () => {
  test('a template parameter with neither a value nor a Default', () => {
    expect(errorsFor(edit(DNS, '  Parameters:\n    DomainName: "{{ config.dns_domain }}"\n', ''))).toEqual([
      'stacks/dns.yaml:7:3: parameter "DomainName" has no value: set Metadata.Parameters.DomainName or give it a Default',
    ])
  })

  test('a parameter with a Default needs no value', () => {
    const { fleet } = loadValid(
      edit(DNS, '    Type: String\n', '    Type: String\n  TTL:\n    Type: Number\n    Default: 300\n'),
    )
    expect(fleet.desired.get('111111111111')!.stacks[0]!.parameters).toEqual({
      DomainName: 'teapot.example.org',
    })
  })

  test('a value for a parameter the template does not declare', () => {
    expect(
      errorsFor(
        edit(
          DNS,
          '    DomainName: "{{ config.dns_domain }}"\n',
          '    DomainName: "{{ config.dns_domain }}"\n    DomainNme: x\n',
        ),
      ),
    ).toEqual([
      'stacks/dns.yaml:8:5: Metadata.Parameters sets "DomainNme", which is not a parameter of this template; did you mean "DomainName"?',
    ])
  })

  test('a parameter value must be a scalar or a list', () => {
    expect(errorsFor(edit(DNS, 'DomainName: "{{ config.dns_domain }}"', 'DomainName: { a: 1 }'))).toEqual([
      'stacks/dns.yaml:7:17: "DomainName" must be a string, a number, true or false or a list, not a mapping',
    ])
  })

  test('an expression in a parameter value is checked where it is written', () => {
    expect(errorsFor(edit(DNS, '"{{ config.dns_domain }}"', '"{{ confg.dns_domain }}"'))).toEqual([
      'stacks/dns.yaml:7:21: CEL type error: Unknown variable: confg; did you mean "config"? (available here: account, target, config, fleet, region) in {{ confg.dns_domain }}',
    ])
  })
})

describe('stacks: names', () => {
  test('a duplicate StackName points at the first', () => {
    expect(errorsFor({ 'stacks/dns2.yaml': BASE_FILES[DNS]! })).toEqual([
      'stacks/dns2.yaml:3:14: duplicate StackName "route53-hostedzones" (also in stacks/dns.yaml:3:14); each stack needs its own name',
    ])
  })

  test('MovedFrom may not name the stack itself', () => {
    expect(errorsFor(edit(DNS, '  Scope:', '  MovedFrom: route53-hostedzones\n  Scope:'))).toEqual([
      'stacks/dns.yaml:4:14: MovedFrom names the stack itself; it must name the stack’s previous StackName',
    ])
  })

  test('MovedFrom may not name a stack that still exists', () => {
    const other = stack('  StackName: queue\n  MovedFrom: route53-hostedzones\n')
    expect(errorsFor({ 'stacks/queue.yaml': other })).toEqual([
      'stacks/queue.yaml:2:14: MovedFrom "route53-hostedzones" is still the StackName of stacks/dns.yaml; a stack can only move from a name no longer in use',
    ])
  })

  test('stacks are sorted by StackName', () => {
    const { fleet } = loadValid({
      'stacks/aaa.yaml': stack('  StackName: zeta\n'),
      'stacks/zzz.yaml': stack('  StackName: alpha\n'),
    })
    expect(fleet.stacks.map((s) => s.stackName)).toEqual(['alpha', 'route53-hostedzones', 'zeta'])
  })
})

describe('stacks: template', () => {
  test('an unknown template section, with the closest', () => {
    expect(errorsFor(edit(DNS, 'Resources:', 'Output: {}\nResources:'))).toEqual([
      'stacks/dns.yaml:11:1: unknown key "Output"; did you mean "Outputs"?',
    ])
  })

  test('a stack needs at least one resource', () => {
    expect(errorsFor({ 'stacks/empty.yaml': stack('  StackName: empty\n', 'Resources: {}\n') })).toEqual([
      'stacks/empty.yaml:3:12: a stack needs at least one resource under Resources',
    ])
  })

  test('an invalid resource type', () => {
    expect(errorsFor(edit(DNS, 'Type: AWS::Route53::HostedZone', 'Type: Route53HostedZone'))).toEqual([
      'stacks/dns.yaml:13:11: "Route53HostedZone" is not a resource type; expected AWS::Service::Resource or Custom::Name',
    ])
  })

  test('a resource without a Type', () => {
    expect(errorsFor(edit(DNS, '    Type: AWS::Route53::HostedZone\n', ''))).toEqual([
      'stacks/dns.yaml:13:5: missing required key "Type"',
    ])
  })

  test('an unknown resource attribute', () => {
    expect(
      errorsFor(
        edit(
          DNS,
          '    Type: AWS::Route53::HostedZone\n',
          '    Type: AWS::Route53::HostedZone\n    Propertes: {}\n',
        ),
      ),
    ).toEqual(['stacks/dns.yaml:14:5: unknown key "Propertes"; did you mean "Properties"?'])
  })

  test('an invalid logical id', () => {
    expect(errorsFor(edit(DNS, '  HostedZone:', '  Hosted-Zone:'))).toEqual([
      'stacks/dns.yaml:12:3: logical id "Hosted-Zone" may only contain letters and digits (CloudFormation rejects it)',
    ])
  })

  test('an invalid DeletionPolicy', () => {
    expect(
      errorsFor(
        edit(
          DNS,
          '    Type: AWS::Route53::HostedZone\n',
          '    Type: AWS::Route53::HostedZone\n    DeletionPolicy: Retian\n',
        ),
      ),
    ).toEqual([
      'stacks/dns.yaml:14:21: invalid DeletionPolicy "Retian": expected one of Delete, Retain, RetainExceptOnCreate, Snapshot; did you mean "Retain"?',
    ])
  })

  test('an unknown short tag', () => {
    expect(errorsFor(edit(DNS, '!Sub', '!Subb'))).toEqual([
      "stacks/dns.yaml:15:13: unknown tag !Subb; did you mean !Sub? (only CloudFormation's short tags are understood)",
    ])
  })
})

describe('stacks: expressions', () => {
  const select = (expression: string) =>
    errorsFor(edit(DNS, "Select: account.environment != 'test'", `Select: ${expression}`))

  test('a CEL syntax error in Select is reported where the parser stopped', () => {
    expect(select("account.environment != 'test' &&")).toEqual([
      'stacks/dns.yaml:5:43: CEL syntax error: Unexpected token: EOF',
    ])
  })

  test('a CEL type error in Select (a misspelt field) suggests the field', () => {
    expect(select("account.enviroment != 'test'")).toEqual([
      'stacks/dns.yaml:5:19: CEL type error: No such key: enviroment; did you mean "environment"?',
    ])
  })

  test('Select may only use the variables of a stack selector', () => {
    expect(select("region == 'eu-west-1'")).toEqual([
      'stacks/dns.yaml:5:11: CEL type error: Unknown variable: region (available here: account, target, config, fleet)',
    ])
  })

  test('Select must be true or false', () => {
    expect(select('account.environment')).toEqual([
      'stacks/dns.yaml:5:11: this expression must be true or false, but it is of type string',
    ])
  })

  const template = (text: string) => errorsFor(edit(DNS, '"*.{{ config.dns_domain }}"', text))

  test('a CEL syntax error inside {{ }} in the template', () => {
    expect(template('"*.{{ config.dns_domain + }}"')).toEqual([
      'stacks/dns.yaml:19:44: CEL syntax error: Unexpected token: EOF in {{ config.dns_domain + }}',
    ])
  })

  test('a CEL type error inside {{ }} in the template', () => {
    expect(template('"*.{{ account.nam }}"')).toEqual([
      'stacks/dns.yaml:19:33: CEL type error: No such key: nam; did you mean "name"? in {{ account.nam }}',
    ])
    expect(template('"*.{{ cluster.id }}"')).toEqual([
      'stacks/dns.yaml:19:25: CEL type error: Unknown variable: cluster (available here: account, target, config, fleet, region) in {{ cluster.id }}',
    ])
  })

  test('an unterminated or empty {{ }}', () => {
    expect(template('"*.{{ config.dns_domain"')).toEqual([
      `stacks/dns.yaml:19:22: unterminated "{{": close it with "}}", write a literal "{{" as {{ '{{' }}, or set interpolate: false for the component`,
    ])
    expect(template('"*.{{ }}"')).toEqual([
      'stacks/dns.yaml:19:22: empty "{{ }}": put a CEL expression inside',
    ])
  })

  test('every expression error of a file is reported, not just the first', () => {
    const both = edit(DNS, '"*.{{ config.dns_domain }}"', '"*.{{ confg.x }}"')
    both[DNS] = both[DNS]!.replace("Select: account.environment != 'test'", 'Select: acount.id == "1"')
    expect(errorsFor(both)).toHaveLength(2)
  })
})
