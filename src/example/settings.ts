/** The `name` in fleet.yaml. */
const FLEET_NAME = 'example-fleet'

/** `fleet.yaml`: fleet-wide settings. */
export function fleetFile(description: string): string {
  return `# Fleet-wide settings. README.md explains the layout of this repository.
apiVersion: flotilla/v1
name: ${FLEET_NAME}
description: ${JSON.stringify(description)}
provider: sim                      # the built-in simulated fleet; aws for real accounts
# Tag compliance is the share of these tags an account carries (the portal shows it per team).
requiredTags: [owner, cost-center, environment]
# Added to the built-in protected types (hosted zones, certificates, VPCs, IAM roles, and every
# type that holds data: databases, buckets, caches, queues, secrets, keys, …): deleting or
# replacing one needs an approval of its exact address.
protect:
  - AWS::EC2::EIP   # the NAT gateways' public addresses, which partners allowlist (stacks/vpc.yaml)
limits:
  maxDeletes: 10                   # more deletions (replacements too) in one plan need an approval
  maxShrinkPercent: 10             # a stack or component may lose at most 10 % of its targets at once
# The rules that judge a change come from the tip of this branch as well as from the change
# itself, strictest wins: a change cannot switch off its own guard. A change to policies/,
# rollout.yaml or the settings above needs an approval by an admin or a member of an owner team.
trust:
  branch: main
  owners: [sre]
`
}

/**
 * `cluster/config-defaults.yaml`: config items of every cluster, by environment and channel.
 * Component versions travel through the channels: dev runs the next release first.
 */
export const CONFIG_DEFAULTS = `# Config items of every cluster, read in manifests as {{ config.<name> }}. Merged in this
# order, later winning: defaults, environments.<environment>, channels.<channel>, and the
# cluster's own config in inventory/clusters.yaml.
defaults:
  autoscaling_enabled: true
  log_level: info
  coredns_replicas: 2
  ingress_replicas: 2
  scale_down_unneeded_time: 10m
  ingress_nginx_version: v1.11.3
  external_dns_version: v0.15.0
  node_exporter_version: v1.8.2
  kube_state_metrics_version: v2.13.0
  metrics_server_version: v0.7.2
environments:
  production:
    coredns_replicas: 3
    ingress_replicas: 3
    scale_down_unneeded_time: 30m    # scale down slowly where traffic is real
  test:
    scale_down_unneeded_time: 5m     # test clusters are idle most of the day
# New component versions reach dev first, then alpha and beta, and stable last.
channels:
  dev:
    log_level: debug
    ingress_nginx_version: v1.12.1
    external_dns_version: v0.15.1
    node_exporter_version: v1.9.0
    kube_state_metrics_version: v2.15.0
    metrics_server_version: v0.7.2
  alpha:
    ingress_nginx_version: v1.12.1
    external_dns_version: v0.15.1
    node_exporter_version: v1.9.0
    kube_state_metrics_version: v2.15.0
  beta:
    ingress_nginx_version: v1.12.1
    node_exporter_version: v1.9.0
`
