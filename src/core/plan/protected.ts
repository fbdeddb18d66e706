/**
 * Resource types whose deletion or replacement destroys state that a revert cannot bring back:
 * DNS zones (and the records other controllers wrote into them), certificates, networks, roles,
 * keys, data. Deleting or replacing one needs an explicit approval of its exact address.
 */
export const BUILTIN_PROTECTED_TYPES: readonly string[] = [
  'AWS::Route53::HostedZone',
  'AWS::CertificateManager::Certificate',
  'AWS::EC2::VPC',
  'AWS::IAM::Role',
  'AWS::KMS::Key',
  'AWS::S3::Bucket',
  'AWS::RDS::DBInstance',
  'AWS::DynamoDB::Table',
]

/** Kubernetes kinds that hold state or define other objects; pruning them needs an approval too. */
export const BUILTIN_PROTECTED_KINDS: readonly string[] = [
  'Namespace',
  'PersistentVolumeClaim',
  'PersistentVolume',
  'CustomResourceDefinition',
]

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
