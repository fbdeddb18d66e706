/**
 * `rollout.yaml` of the example: dev → alpha → ops → beta → stable. A target belongs to the first
 * stage that selects it, so the order matters: dev and alpha exclude the ops group explicitly,
 * and ops comes before beta and stable, which then never see an ops target. That keeps
 * monitoring and ops tooling in a stage of their own (validation rejects a stage that mixes them
 * with production), after staging proved a change (alpha has the first public zones, so the first
 * DNS that can break) and before anything customers use (beta holds the first production
 * accounts); and every target that is not decommissioned has a stage.
 */
export const ROLLOUT = `# Rollout stages, in order. A target belongs to the first stage whose select matches it; a
# target that no stage selects is a validation error.
defaults:
  maxParallel: 5
  failureTolerance: 0
  bake: 10m                        # wait after a stage's last wave, then run its gates again
  onFailure: rollback
stages:
  - name: dev
    description: Test accounts and clusters that take every change first
    select: target.channel == 'dev' && target.group != 'ops'
    maxParallel: 20
    bake: 5m
    gates: [healthy]
  - name: alpha
    description: Staging and test targets of the alpha channel; the first with public DNS
    select: target.channel == 'alpha' && target.group != 'ops'
    maxParallel: 10
    gates: [healthy]
  - name: ops
    description: Monitoring and ops tooling, on their own, after staging and before anything customers use
    select: target.group == 'ops'
    maxParallel: 1
    bake: 30m
    gates: [healthy, dns]
  - name: beta
    select: target.channel == 'beta'
    bake: 30m
    gates: [healthy, e2e, errors]
  - name: stable
    description: Production, in waves, after a person approves
    select: target.channel == 'stable'
    waves: [1, 10%, 50%, 100%]     # cumulative: one target, then 10 %, half, all
    approval: required
    maxParallel: 10
    bake: 1h
    gates: [healthy, dns, e2e, errors]
gates:
  healthy:
    type: health
    description: The provider's own view - stacks settled, zones resolvable, objects ready
    timeout: 15m
  dns:
    type: dns
    description: The account's zone, or the cluster's ingress name, still resolves
    names: ["{{ target.kind == 'account' ? config.dns_domain : config.ingress_domain }}"]
    timeout: 5m
  e2e:
    type: command
    description: The end-to-end test suite (about an hour); replace e2e/run.sh with yours
    run: "sh e2e/run.sh {{ target.id }}"
    timeout: 90m
  errors:
    type: prometheus
    description: Error rate of the target's services stays below 1 %
    url: http://127.0.0.1:9090
    query: 'sum(rate(http_requests_total{account="{{ target.account }}",code=~"5.."}[5m])) / sum(rate(http_requests_total{account="{{ target.account }}"}[5m]))'
    condition: result < 0.01
    timeout: 10m
`
