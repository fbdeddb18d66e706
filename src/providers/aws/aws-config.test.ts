import { describe, expect, test } from 'vitest'
import { InputError } from '../../core/errors.ts'
import { awsConfigFromEnvironment, DEFAULT_ROLE_ARN, roleArnOf } from './aws-config.ts'
import { providerErrorOf } from './aws-errors.ts'
import { stackPolicy } from './stack-changes.ts'

describe('the aws provider settings', () => {
  test('come from the environment, with defaults', () => {
    expect(awsConfigFromEnvironment({})).toEqual({ roleArn: DEFAULT_ROLE_ARN, region: 'us-east-1' })
    expect(
      awsConfigFromEnvironment({
        FLOTILLA_AWS_ROLE_ARN: 'arn:aws:iam::{account}:role/platform/deployer',
        AWS_REGION: 'eu-central-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
        FLOTILLA_AWS_EXTERNAL_ID: 'shop',
      }),
    ).toEqual({
      roleArn: 'arn:aws:iam::{account}:role/platform/deployer',
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:4566',
      externalId: 'shop',
    })
    expect(roleArnOf({ roleArn: DEFAULT_ROLE_ARN }, '123456789012')).toBe(
      'arn:aws:iam::123456789012:role/flotilla-deployer',
    )
  })

  test('a role ARN without {account} would act in one account for all: refused with an example', () => {
    expect(() =>
      awsConfigFromEnvironment({ FLOTILLA_AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/x' }),
    ).toThrow(InputError)
    expect(() => awsConfigFromEnvironment({ FLOTILLA_AWS_ROLE_ARN: 'deployer' })).toThrow(
      'FLOTILLA_AWS_ROLE_ARN "deployer" is not a role ARN with {account} for the account id, e.g. arn:aws:iam::{account}:role/flotilla-deployer',
    )
  })
})

describe('AWS errors as provider errors', () => {
  const of = (error: object) => providerErrorOf(error, 'acct', 'reading')
  test('throttling, 5xx and network failures may be retried; the rest may not', () => {
    expect(of({ name: 'Throttling', message: 'Rate exceeded' })).toMatchObject({
      code: 'throttled',
      message: 'reading: Throttling: Rate exceeded',
    })
    expect(of({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }).code).toBe('unavailable')
    expect(of({ name: 'Error', code: 'ECONNREFUSED' }).code).toBe('unavailable')
    expect(
      of({
        name: 'ValidationError',
        message: 'Stack:x is in UPDATE_IN_PROGRESS state and can not be updated.',
      }).code,
    ).toBe('busy')
    expect(of({ name: 'AccessDenied', message: 'no', $metadata: { httpStatusCode: 403 } }).retryable).toBe(
      false,
    )
  })
})

describe('the stack policy of a created stack', () => {
  test('allows every update but replacing or deleting its protected resources', () => {
    expect(JSON.parse(stackPolicy(['Zone']))).toEqual({
      Statement: [
        { Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' },
        {
          Effect: 'Deny',
          Action: ['Update:Replace', 'Update:Delete'],
          Principal: '*',
          Resource: ['LogicalResourceId/Zone'],
        },
      ],
    })
    expect(JSON.parse(stackPolicy([])).Statement).toHaveLength(1)
  })
})
