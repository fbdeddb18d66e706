import { describe, expect, it } from 'vitest'
import { loadFleet } from '../../../core/load/load-fleet.ts'
import { memorySource } from '../../../core/model/source.ts'
import { generateExampleFleet } from '../../../example/generate-example.ts'
import { podImages } from './cluster-view.ts'
import { ImageRegistry, normalizeImage } from './image-registry.ts'

describe('the simulated image registry', () => {
  it('has every image the example fleet runs, in every channel', () => {
    const result = loadFleet(memorySource(generateExampleFleet({ accounts: 40, clusters: 40, seed: '3' })))
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
    const images = new Set<string>()
    for (const desired of result.fleet.desired.values())
      for (const manifest of desired.manifests) {
        const template = (
          manifest.object.spec as { template?: { spec?: Record<string, unknown> } } | undefined
        )?.template
        for (const image of podImages(template?.spec ?? {})) images.add(image)
      }
    expect(images.size).toBeGreaterThan(5)
    const registry = new ImageRegistry()
    expect([...images].filter((image) => !registry.has(image))).toEqual([])
  })

  it('resolves short names as registries do, and knows pushed images only', () => {
    expect(normalizeImage('nginx')).toBe('docker.io/library/nginx:latest')
    expect(normalizeImage('bitnami/redis:7')).toBe('docker.io/bitnami/redis:7')
    expect(normalizeImage('localhost:5000/x')).toBe('localhost:5000/x:latest')
    expect(new ImageRegistry().has('nginx:1.27')).toBe(false)
    expect(new ImageRegistry(['docker.io/library/nginx:1.27']).has('nginx:1.27')).toBe(true)
  })
})
