import type { DiagnosticSink } from '../diagnostics.ts'
import { componentSettingsSchema } from '../model/cluster-config.ts'
import type { Component, ManifestDocument } from '../model/fleet-model.ts'
import type { TemplateNode } from '../model/template-node.ts'
import { compileLocatedExpression, compileTemplate } from '../render/compile.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import type { LoadCache } from './load-cache.ts'
import { checkSchema } from './schema-check.ts'

/** The parsed files of one component directory. */
export interface ComponentFiles {
  settings: ParsedDocument | undefined
  /** component.yaml exists but could not be read (its error is reported): the component is skipped. */
  settingsUnreadable: boolean
  manifests: ParsedDocument[]
  /** Where the component is, for messages about the component as a whole. */
  firstFile: string
}

/** Loads the cluster components (`cluster/manifests/<name>/`), sorted by name. */
export function loadComponents(
  byName: ReadonlyMap<string, ComponentFiles>,
  sink: DiagnosticSink,
  cache?: LoadCache,
): Component[] {
  const components: Component[] = []
  for (const [name, files] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Rendered with default settings, manifests meant for `interpolate: false` would report errors that are not there.
    if (files.settingsUnreadable) continue
    const at = files.settings?.locate([]) ?? { file: files.firstFile, line: 1, col: 1 }
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) {
      sink.error(
        at,
        'invalid-value',
        `component directory "${name}" must be a lowercase name (letters, digits, dashes)`,
      )
      continue
    }
    const settings = files.settings
      ? checkSchema(componentSettingsSchema, files.settings, sink)
      : componentSettingsSchema.parse({})
    if (!settings) continue
    const select =
      settings.select === undefined || !files.settings
        ? undefined
        : compileLocatedExpression(settings.select, files.settings, ['select'], 'component-select', sink)
    const documents: ManifestDocument[] = []
    for (const doc of files.manifests) {
      if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
        sink.error(
          doc.locate([]),
          'invalid-manifest',
          'a manifest document must be a mapping (a Kubernetes object with apiVersion, kind and metadata)',
        )
        continue
      }
      const body = compiledBody(doc, settings.interpolate, sink, cache)
      documents.push({ file: doc.file, index: doc.index, body, at: doc.locate([]) })
    }
    if (files.manifests.length === 0) {
      sink.warn(
        at,
        'empty-component',
        `component "${name}" has no manifests; add YAML files next to component.yaml or remove the directory`,
      )
    }
    components.push({ name, select, interpolate: settings.interpolate, documents, at })
  }
  return components
}

/** A manifest document compiled for rendering; the same document compiles once across loads. */
function compiledBody(
  doc: ParsedDocument,
  interpolate: boolean,
  sink: DiagnosticSink,
  cache: LoadCache | undefined,
): TemplateNode {
  const cached = cache?.manifestBodies.get(doc)?.get(interpolate)
  if (cached) return cached
  const errorsBefore = sink.errors.length
  const body: TemplateNode = interpolate
    ? compileTemplate(doc.value, doc, [], 'manifest-template', sink)
    : { kind: 'static', value: doc.value }
  if (cache && sink.errors.length === errorsBefore) {
    const byMode = cache.manifestBodies.get(doc) ?? new Map<boolean, TemplateNode>()
    byMode.set(interpolate, body)
    cache.manifestBodies.set(doc, byMode)
  }
  return body
}
