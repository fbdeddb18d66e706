import { describe, expect, it } from 'vitest'
import { KubeError } from './kube-errors.ts'
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  selectorRequirements,
} from './selectors.ts'

describe('label selectors', () => {
  const web = { app: 'web', tier: 'front' }
  const db = { app: 'db', legacy: 'yes' }
  const select = (text: string) =>
    [web, db].filter((labels) => matchesLabels(parseLabelSelector(text), labels)).map((l) => l.app)

  it('match equality, set-based and existence requirements, all of them', () => {
    expect(select('app=web')).toEqual(['web'])
    expect(select('app==db')).toEqual(['db'])
    expect(select('app!=web')).toEqual(['db'])
    expect(select('app in (web, db),tier')).toEqual(['web'])
    expect(select('app notin (web)')).toEqual(['db'])
    expect(select('!legacy')).toEqual(['web'])
    expect(select('')).toEqual(['web', 'db'])
  })

  it('refuse what does not parse, naming it', () => {
    expect(() => parseLabelSelector('app in web')).toThrow(KubeError)
    expect(() => parseLabelSelector('app in web')).toThrow(/"app in web"/)
  })

  it('read LabelSelector objects', () => {
    const requirements = selectorRequirements({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }],
    })
    expect(matchesLabels(requirements, web)).toBe(true)
    expect(matchesLabels(requirements, { app: 'web' })).toBe(false)
  })

  it('field selectors compare dotted paths', () => {
    const pod = { metadata: { name: 'a' }, spec: { nodeName: 'node-1' } }
    expect(matchesFields(parseFieldSelector('spec.nodeName=node-1'), pod)).toBe(true)
    expect(matchesFields(parseFieldSelector('spec.nodeName!=node-1'), pod)).toBe(false)
    expect(matchesFields(parseFieldSelector('status.phase='), pod)).toBe(true)
  })
})
