import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { InputError } from '../../core/errors.ts'
import { contextOf, kubernetesConfigFromEnvironment } from './kubernetes-config.ts'

describe('the kubernetes provider settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-kubeconfig-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const kubeconfig = join(dir, 'config')
  writeFileSync(
    kubeconfig,
    'apiVersion: v1\nkind: Config\ncontexts:\n  - name: aws:111111111111:eu-central-1:kube-1\n  - name: shop-kube-2\n',
  )

  test('come from FLOTILLA_KUBECONFIG, else KUBECONFIG, and FLOTILLA_KUBERNETES_TOKEN', () => {
    expect(kubernetesConfigFromEnvironment({})).toEqual({ contexts: [] })
    const contexts = ['aws:111111111111:eu-central-1:kube-1', 'shop-kube-2']
    expect(kubernetesConfigFromEnvironment({ KUBECONFIG: `${kubeconfig}:/elsewhere` })).toEqual({
      kubeconfig,
      contexts,
    })
    expect(
      kubernetesConfigFromEnvironment({
        FLOTILLA_KUBECONFIG: kubeconfig,
        KUBECONFIG: '/nowhere',
        FLOTILLA_KUBERNETES_TOKEN: 't0ken',
      }),
    ).toEqual({ kubeconfig, contexts, token: 't0ken' })
  })

  test('a FLOTILLA_KUBECONFIG that is missing or not a kubeconfig is an error at once; a missing KUBECONFIG is ignored, as kubectl does', () => {
    expect(() => kubernetesConfigFromEnvironment({ FLOTILLA_KUBECONFIG: join(dir, 'nope') })).toThrow(
      new InputError(`FLOTILLA_KUBECONFIG names ${join(dir, 'nope')}, which does not exist`),
    )
    expect(kubernetesConfigFromEnvironment({ KUBECONFIG: join(dir, 'nope') })).toEqual({ contexts: [] })
    const broken = join(dir, 'broken')
    writeFileSync(broken, 'contexts: {a: 1}\n')
    expect(() => kubernetesConfigFromEnvironment({ FLOTILLA_KUBECONFIG: broken })).toThrow(
      'which cannot be read: not a kubeconfig (no contexts list)',
    )
  })

  test("a cluster's context is named after its id, else its alias", () => {
    const config = kubernetesConfigFromEnvironment({ FLOTILLA_KUBECONFIG: kubeconfig })
    expect(contextOf(config, { id: 'aws:111111111111:eu-central-1:kube-1', name: 'shop-kube-1' })).toBe(
      'aws:111111111111:eu-central-1:kube-1',
    )
    expect(contextOf(config, { id: 'aws:222222222222:eu-central-1:kube-2', name: 'shop-kube-2' })).toBe(
      'shop-kube-2',
    )
    expect(contextOf(config, { id: 'other', name: 'other' })).toBeUndefined()
  })
})
