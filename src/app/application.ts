/**
 * The application: every use case of Flotilla — plan, apply a target, start, run, control and
 * follow rollouts, restore a snapshot, users and tokens — as methods of one object over
 * the store, the providers and the fleet repository. The faces (the CLI, the HTTP API and the
 * portal) parse their input, call it, and format what it returns. `openApplication` (the
 * composition root) builds it for a process; tests and embedders build it over parts they own.
 */
import type { Kysely } from 'kysely'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { PolicyClock } from '../core/policy/policy-time.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { observeFleet } from '../operations/observed-fleet.ts'
import type { Operator } from '../rollout/controls.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import type { RolloutRequest } from '../rollout/rollout-model.ts'
import { appendAuditEntry, type NewAuditEntry } from '../store/audit.ts'
import type { Database } from '../store/tables.ts'
import { type ApplyRequest, applyTargetOf } from './apply.ts'
import { type EngineOptions, openEngine, type RolloutEngine } from './engine.ts'
import {
  type CommitPlanRequest,
  type ObservedPlanRequest,
  planBetweenRevisions,
  planCommit,
  planObserved,
  type RevisionsPlanRequest,
} from './plan.ts'
import { findSnapshot, listSnapshots, type RestoreRequest, restoreSnapshotOf } from './restore.ts'
import {
  controlRollout,
  prepareRolloutOf,
  previewRolloutOf,
  type RolloutControl,
  type RunUntilItStopsOptions,
  runUntilItStops,
  type StartRolloutRequest,
  startRolloutOf,
  stopTheFleet,
  unstopTheFleet,
} from './rollouts.ts'
import { type Simulator, simulatorOf } from './simulator.ts'
import { Users } from './users.ts'

/** What an application works with. */
export interface ApplicationParts {
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  /** The fleet repository. */
  readonly repoDir: string
  /** Where the data lives, for messages: a directory or `PostgreSQL`. @default `the store` */
  readonly location?: string
  /** The embedded store's folder; undefined for PostgreSQL (or a store the caller owns). */
  readonly dataDir?: string
  /** The time policies see when a change is judged. @default the real clock */
  readonly clock?: PolicyClock
  /** Releases the store (and its lock) after the providers; parts owned by the caller have none. */
  readonly close?: () => Promise<void>
}

/** The application (see the module comment). */
export class Application {
  /** The store: the control plane's tables. */
  readonly db: Kysely<Database>
  /** The providers, by name: every target's way to the cloud (or the simulated fleet). */
  readonly registry: ProviderRegistry
  /** The fleet repository. */
  readonly repoDir: string
  /** Where the data lives, for messages. */
  readonly location: string
  /** The embedded store's folder, where a server records how the CLI reaches it; undefined for PostgreSQL. */
  readonly dataDir: string | undefined
  /** The time policies see when a change is judged; undefined: the real clock. */
  readonly clock: PolicyClock | undefined
  /** Users, their tokens and emergency access. */
  readonly users: Users
  private readonly parts: ApplicationParts
  private readonly engines = new Set<RolloutEngine>()
  private defaultEngine: Promise<RolloutEngine> | undefined

  constructor(parts: ApplicationParts) {
    this.parts = parts
    this.db = parts.db
    this.registry = parts.registry
    this.repoDir = parts.repoDir
    this.location = parts.location ?? 'the store'
    this.dataDir = parts.dataDir
    this.clock = parts.clock
    this.users = new Users(parts.db)
  }

  /** The simulated fleet's extras, when the simulated fleet is one of the providers. */
  simulator(): Simulator | undefined {
    return simulatorOf(this.registry)
  }

  /**
   * Opens a rollout engine over the store and the repository (or `options.repoDir`, a server's
   * mirror), closed with the application at the latest.
   */
  async openEngine(options: EngineOptions = {}): Promise<RolloutEngine> {
    const engine = await openEngine(this, options)
    this.engines.add(engine)
    return {
      deps: engine.deps,
      close: async () => {
        this.engines.delete(engine)
        await engine.close()
      },
    }
  }

  /** The engine of the application's own repository and clock, opened on first use. */
  engine(): Promise<EngineDeps> {
    this.defaultEngine ??= this.openEngine()
    return this.defaultEngine.then((engine) => engine.deps)
  }

  /** A fleet at a commit of the repository (cached by the engine); an invalid one is an input error. */
  async loadRevision(commit: string, engine?: EngineDeps): Promise<Fleet> {
    return (engine ?? (await this.engine())).loadRevision(commit)
  }

  /** Plans `head` against the fleet as its providers observe it (`flotilla plan` without `--base`). */
  planObserved(head: Fleet, request: ObservedPlanRequest = {}) {
    return planObserved(this, head, request)
  }

  /** Plans the change from one revision to another, offline (`flotilla plan --base`). */
  planBetweenRevisions(base: Fleet, head: Fleet, request: RevisionsPlanRequest = {}) {
    return planBetweenRevisions(base, head, request)
  }

  /** Plans a commit of the repository against the observed fleet at a given policy time (the server's plans). */
  async planCommit(commit: string, request: CommitPlanRequest, engine?: EngineDeps) {
    return planCommit(this, engine ?? (await this.engine()), commit, request)
  }

  /** Plans one target against its observed state and, when allowed, applies it (`flotilla apply`). */
  applyTarget(request: ApplyRequest) {
    return applyTargetOf(this, request)
  }

  /** Starts a rollout of a commit (the CLI, the API, the portal). */
  async startRollout(request: StartRolloutRequest, engine?: EngineDeps) {
    return startRolloutOf(this, engine ?? (await this.engine()), request)
  }

  /** What starting a rollout of a commit would do, judged as the start would; nothing recorded. */
  async previewRollout(request: Parameters<typeof previewRolloutOf>[2], engine?: EngineDeps) {
    return previewRolloutOf(this, engine ?? (await this.engine()), request)
  }

  /** Plans a commit for a rollout without recording anything (see `rollouts.ts`). */
  async prepareRollout(fleet: Fleet, commit: string, request: RolloutRequest, engine?: EngineDeps) {
    return prepareRolloutOf(engine ?? (await this.engine()), fleet, commit, request)
  }

  /**
   * Runs a rollout in this process until it ends, waits for a person, or is paused; while another
   * process holds it, waits for that process to let go (see `rollouts.ts`).
   */
  async runUntilItStops(id: string, options: RunUntilItStopsOptions = {}, engine?: EngineDeps) {
    return runUntilItStops(this, engine ?? (await this.engine()), id, options)
  }

  /** An operator control of a rollout: pause, resume, abort, approve, retry or skip. */
  controlRollout(control: RolloutControl, who: Operator) {
    return controlRollout(this, control, who)
  }

  /** Pulls the fleet-wide stop: every running rollout pauses. Returns the rollouts paused. */
  stopFleet(reason: string, who: Operator) {
    return stopTheFleet(this, reason, who)
  }

  /** Releases the fleet-wide stop. Returns the rollouts resumed. */
  unstopFleet(who: Operator) {
    return unstopTheFleet(this, who)
  }

  /** The fleet as its providers observe it, and its drift from what Flotilla last applied. */
  observe(fleet: Fleet, include?: (target: Target) => boolean) {
    return observeFleet(fleet, this.registry, this.db, include)
  }

  /** Appends an entry to the audit log. */
  audit(entry: NewAuditEntry) {
    return appendAuditEntry(this.db, entry)
  }

  /** Every snapshot of a destroyed protected resource, newest first. */
  snapshots() {
    return listSnapshots(this)
  }

  /** The snapshot of an id, with the provider that took it; undefined when there is none. */
  findSnapshot(id: string) {
    return findSnapshot(this, id)
  }

  /** Restores a snapshot through the provider that took it, and records it in the audit log. */
  restoreSnapshot(request: RestoreRequest) {
    return restoreSnapshotOf(this, request)
  }

  /** Closes the engines, the providers, then the store. */
  async close(): Promise<void> {
    try {
      await Promise.all([...this.engines].map((engine) => engine.close()))
      await Promise.all(this.registry.all().map((provider) => provider.close?.()))
    } finally {
      await this.parts.close?.()
    }
  }
}
