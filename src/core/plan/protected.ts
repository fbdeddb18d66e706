import { AWS_STATEFUL_TYPES } from '../resource-types/aws-stateful.ts'
import { STATEFUL_SUPPLEMENT } from '../resource-types/stateful-supplement.ts'

/**
 * The base list of protected CloudFormation types, as the repository format names it: identity
 * and network that others build on (DNS zones and the records other controllers wrote into them,
 * certificates, networks, roles) and the first stateful types (keys, buckets, databases, tables).
 */
export const BASE_PROTECTED_TYPES: readonly string[] = Object.freeze([
  'AWS::Route53::HostedZone',
  'AWS::CertificateManager::Certificate',
  'AWS::EC2::VPC',
  'AWS::IAM::Role',
  'AWS::KMS::Key',
  'AWS::S3::Bucket',
  'AWS::RDS::DBInstance',
  'AWS::DynamoDB::Table',
])

/**
 * The stateful CloudFormation types that are protected besides the base list: every type that
 * AWS's resource specification marks stateful (generated from cfn-lint's stateful-resource data:
 * `resource-types/aws-stateful.ts`), plus the few of Flotilla's reviewed supplement
 * (`resource-types/stateful-supplement.ts`). Sorted, without duplicates.
 */
export const STATEFUL_PROTECTED_TYPES: readonly string[] = Object.freeze(
  sortedUnique([...AWS_STATEFUL_TYPES, ...STATEFUL_SUPPLEMENT.map((entry) => entry.type)]),
)

/**
 * Resource types whose deletion or replacement destroys state that a revert cannot bring back:
 * {@link BASE_PROTECTED_TYPES} and {@link STATEFUL_PROTECTED_TYPES} (databases and their
 * clusters, global tables, file systems, user pools, secrets, keys, streams, queues, search
 * domains, …). Deleting or replacing one needs an explicit approval of its exact address.
 * Sorted, without duplicates.
 */
export const BUILTIN_PROTECTED_TYPES: readonly string[] = Object.freeze(
  sortedUnique([...BASE_PROTECTED_TYPES, ...STATEFUL_PROTECTED_TYPES]),
)

/** Kubernetes kinds that hold state or define other objects; pruning them needs an approval too. */
export const BUILTIN_PROTECTED_KINDS: readonly string[] = Object.freeze([
  'Namespace',
  'PersistentVolumeClaim',
  'PersistentVolume',
  'CustomResourceDefinition',
])

/**
 * Decides whether a change's type is protected: the built-in lists plus `fleet.yaml` `protect`
 * (CloudFormation types or Kubernetes kinds). Kubernetes types are `<apiVersion>/<Kind>`.
 */
export function protectedTypes(extra: readonly string[]): (type: string) => boolean {
  const set = new Set([...BUILTIN_PROTECTED_TYPES, ...BUILTIN_PROTECTED_KINDS, ...extra])
  return (type) => {
    if (set.has(type)) return true
    const slash = type.lastIndexOf('/')
    return slash >= 0 && set.has(type.slice(slash + 1))
  }
}

function sortedUnique(types: readonly string[]): string[] {
  return [...new Set(types)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
