import { describe, expect, test } from 'vitest'
import { closest, didYouMean } from './suggest.ts'

describe('closest', () => {
  test('finds a near miss within a third of the word', () => {
    expect(closest('Metadpata', ['Metadata', 'Resources', 'Outputs'])).toBe('Metadata')
    expect(closest('StakName', ['StackName', 'Scope'])).toBe('StackName')
    expect(closest('stackname', ['StackName'])).toBe('StackName')
  })

  test('suggests nothing for words that are too far, or for the word itself', () => {
    expect(closest('foo', ['Metadata', 'Resources'])).toBeUndefined()
    expect(closest('Metadata', ['Metadata'])).toBeUndefined()
    expect(closest('x', [])).toBeUndefined()
  })

  test('breaks ties alphabetically, so the suggestion is stable', () => {
    expect(closest('ab', ['ac', 'aa'])).toBe('aa')
    expect(closest('ab', ['aa', 'ac'])).toBe('aa')
  })

  test('didYouMean phrases it for messages', () => {
    expect(didYouMean('Selcet', ['Select'])).toBe('; did you mean "Select"?')
    expect(didYouMean('zzz', ['Select'])).toBe('')
  })
})
