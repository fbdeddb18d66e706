/**
 * How long simulated operations take before they settle, at a latency scale of 1: in the order
 * of what CloudFormation and Kubernetes take, compressed so a demo rollout stays watchable.
 * `flotilla sim settings --latency-scale 0` makes everything settle at once (tests, benchmarks).
 */

/** Seconds a stack operation takes besides its resources. */
const STACK_SECONDS = 1

/** Seconds to create or replace a resource of a type; the rest take {@link DEFAULT_RESOURCE_SECONDS}. */
const RESOURCE_SECONDS: Readonly<Record<string, number>> = {
  'AWS::Route53::HostedZone': 3,
  'AWS::CertificateManager::Certificate': 4,
  'AWS::EC2::NatGateway': 5,
  'AWS::ElastiCache::ReplicationGroup': 6,
  'AWS::EC2::VPC': 2,
}
const DEFAULT_RESOURCE_SECONDS = 0.5

/** Seconds until an object of a kind is ready; other kinds are ready at once. */
const OBJECT_SECONDS: Readonly<Record<string, number>> = {
  Deployment: 2,
  DaemonSet: 3,
  StatefulSet: 4,
}

/**
 * Milliseconds a stack operation takes: resources change in parallel, so the slowest one counts.
 *
 * @param resourceTypes the types of the resources created, replaced or deleted
 */
export function stackOperationMs(resourceTypes: readonly string[], scale: number): number {
  const slowest = Math.max(
    0,
    ...resourceTypes.map((type) => RESOURCE_SECONDS[type] ?? DEFAULT_RESOURCE_SECONDS),
  )
  return Math.round((STACK_SECONDS + slowest) * 1000 * scale)
}

/** Milliseconds until an applied object is ready. */
export function objectReadyMs(kind: string, scale: number): number {
  return Math.round((OBJECT_SECONDS[kind] ?? 0) * 1000 * scale)
}
