/**
 * Every call of the kubernetes provider stops when its signal aborts: it rejects with the signal's
 * reason at once, and the request under way is aborted (the API server sees its connection
 * closed) — a discovery request of the generated APIs as well as a list of the object API.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAbortsPromptly } from '../../../test/support/abort-promptly.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import { KubernetesProvider } from './kubernetes-provider.ts'

/** An API server that serves ConfigMaps only, and leaves requests for `hangAt` hanging. */
class HangingApiServer {
  readonly server: Server
  hangAt = '/apis'
  readonly hanging: { path: string; closed: Promise<void> }[] = []
  private arrived: (() => void) | undefined

  constructor() {
    this.server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname
      if (path === this.hangAt) {
        this.hanging.push({ path, closed: new Promise((resolve) => response.once('close', resolve)) })
        this.arrived?.()
        return
      }
      response.setHeader('content-type', 'application/json')
      if (path === '/apis') return response.end(JSON.stringify({ kind: 'APIGroupList', groups: [] }))
      if (path === '/api/v1')
        return response.end(
          JSON.stringify({
            kind: 'APIResourceList',
            groupVersion: 'v1',
            resources: [
              {
                name: 'configmaps',
                singularName: 'configmap',
                namespaced: true,
                kind: 'ConfigMap',
                verbs: ['list', 'patch', 'delete', 'get'],
              },
            ],
          }),
        )
      response.statusCode = 404
      response.end(JSON.stringify({ kind: 'Status', message: `no ${path}` }))
    })
  }

  nextHang(): Promise<void> {
    return new Promise((resolve) => {
      this.arrived = resolve
    })
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }
}

describe('the kubernetes provider stops when its signal aborts', () => {
  const api = new HangingApiServer()
  let provider: KubernetesProvider
  let cluster: Target

  beforeAll(async () => {
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve))
    cluster = {
      id: 'k-1',
      kind: 'cluster',
      name: 'k-1',
      apiServer: api.url,
      provider: 'kubernetes',
    } as unknown as Target
    provider = new KubernetesProvider({ contexts: [] })
  })

  afterAll(async () => {
    api.server.closeAllConnections()
    await new Promise((resolve) => api.server.close(resolve))
  })

  const calls = {
    observe: (signal: AbortSignal) => provider.observe([cluster], { signal }),
    settled: (signal: AbortSignal) => provider.settled(cluster, undefined, { signal }),
    health: (signal: AbortSignal) => provider.health(cluster, { signal }),
    apply: (signal: AbortSignal) =>
      provider.apply({
        target: cluster,
        desired: { stacks: [], manifests: [] } as never,
        plan: undefined,
        approvedDestruction: new Set(),
        revision: 'test',
        signal,
      }),
  }
  const cases = (['/apis', '/api/v1/configmaps'] as const).flatMap((hangAt) =>
    (Object.keys(calls) as (keyof typeof calls)[]).map((name) => [name, hangAt] as const),
  )

  it.each(cases)(
    '%s, hanging at %s: rejects with the reason within a second, the request aborted',
    async (name, hangAt) => {
      api.hangAt = hangAt
      const request = await expectAbortsPromptly(name, calls[name], api.nextHang(), api.hanging)
      expect(request.path).toBe(hangAt)
    },
  )
})
