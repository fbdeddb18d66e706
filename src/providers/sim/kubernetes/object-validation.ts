/**
 * What the simulated API server checks of an object before it stores it, as the real one's
 * validation does (a subset: names, workloads' selectors and containers, budgets): every problem
 * is a cause of one 422 Invalid.
 */
import type { ApiResource } from './api-resources.ts'
import { invalid, type StatusCause } from './kube-errors.ts'
import { matchesLabels, selectorRequirements } from './selectors.ts'

type Json = Record<string, unknown>

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** Throws 422 Invalid listing every problem of the object. */
export function validateObject(resource: ApiResource, object: Json): void {
  const metadata = (object.metadata ?? {}) as Json
  const name = String(metadata.name ?? '')
  const causes: StatusCause[] = []
  const required = (field: string) =>
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field })
  if (name === '') required('metadata.name')
  else if (resource.group === 'rbac.authorization.k8s.io') {
    // RBAC names are path segments, not subdomains: `system:aggregated-metrics-reader` is valid.
    if (name === '.' || name === '..' || /[/%]/.test(name))
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": may not be '.' or '..' and may not contain '/' or '%'`,
        field: 'metadata.name',
      })
  } else if (name.length > 253 || !SUBDOMAIN.test(name))
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      field: 'metadata.name',
    })
  const spec = (object.spec ?? {}) as Json
  if (resource.kind === 'Deployment' || resource.kind === 'StatefulSet' || resource.kind === 'DaemonSet') {
    const template = (spec.template ?? {}) as Json
    const labels = ((template.metadata as Json | undefined)?.labels ?? {}) as Json
    if (spec.selector === undefined) required('spec.selector')
    else if (!matchesLabels(selectorRequirements(spec.selector), labels))
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
        field: 'spec.template.metadata.labels',
      })
    containerProblems((template.spec ?? {}) as Json, 'spec.template.spec', causes)
  }
  if (resource.kind === 'Pod') containerProblems(spec, 'spec', causes)
  if (
    resource.kind === 'PodDisruptionBudget' &&
    spec.minAvailable !== undefined &&
    spec.maxUnavailable !== undefined
  )
    causes.push({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: minAvailable and maxUnavailable cannot be both set',
      field: 'spec',
    })
  if (causes.length > 0) throw invalid(resource, name, causes)
}

function containerProblems(spec: Json, at: string, causes: StatusCause[]): void {
  const containers = spec.containers
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${at}.containers` })
    return
  }
  containers.forEach((c: Json, i) => {
    if (typeof c.name !== 'string' || c.name === '')
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value',
        field: `${at}.containers[${i}].name`,
      })
    if (typeof c.image !== 'string' || c.image === '')
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value',
        field: `${at}.containers[${i}].image`,
      })
  })
}
