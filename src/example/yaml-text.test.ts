import { describe, expect, test } from 'vitest'
import { parse } from 'yaml'
import { flowList, flowMap, scalar, text } from './yaml-text.ts'

const TRICKY = [
  'eu-central-1',
  '263820974194',
  '0001104321',
  '1.31',
  '10.0.0.0/20',
  'yes',
  'No',
  'null',
  'true',
  'a: b',
  'a #b',
  'kube-1.checkout-prod.example.org',
  'Team API Gateway',
  'Deployment tooling: Flotilla, CI',
  "it's fine",
  'ends with colon:',
  '*.example.org',
  '{{ config.x }}',
  '',
]

describe('yaml-text', () => {
  test.each(TRICKY)('scalar and text of %j read back as the same string', (value) => {
    expect(parse(`key: ${scalar(value)}`)).toEqual({ key: value })
    expect(parse(`key: ${text(value)}`)).toEqual({ key: value })
    expect(parse(`key: ${flowList([value])}`)).toEqual({ key: [value] })
    expect(parse(`key: ${flowMap({ [value || 'empty']: value })}`)).toEqual({
      key: { [value || 'empty']: value },
    })
  })

  test('writes plain scalars where a person would', () => {
    expect(scalar('eu-central-1')).toBe('eu-central-1')
    expect(scalar('263820974194')).toBe('"263820974194"')
    expect(scalar('yes')).toBe('"yes"')
    expect(text('Team API Gateway')).toBe('Team API Gateway')
    expect(text('aws:1:eu-central-1:kube-1')).toBe('aws:1:eu-central-1:kube-1')
    expect(flowMap({ owner: 'sre', 'cost-center': '0001' })).toBe('{ owner: sre, cost-center: "0001" }')
    expect(flowMap({})).toBe('{}')
  })
})
