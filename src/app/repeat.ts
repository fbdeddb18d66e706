/**
 * A background task run again and again, a pause apart, until stopped — what the drift monitor
 * and the health cache share. Its wait never holds the process open, and a stop during a round
 * ends the loop after that round instead of starting another pause.
 */
export class Repeat {
  private stopped = false
  private wake: (() => void) | undefined
  private loop: Promise<void> | undefined

  /** Whether {@link stop} was called (a long round checks it between steps). */
  get isStopped(): boolean {
    return this.stopped
  }

  /**
   * Runs `round` now (or after `firstAfterMs`) and then every `pauseMs` after the previous one
   * ended.
   */
  start(pauseMs: number, round: () => Promise<void>, firstAfterMs = 0): void {
    this.loop = (async () => {
      if (firstAfterMs > 0) await this.pause(firstAfterMs)
      while (!this.stopped) {
        await round()
        if (this.stopped) break // stopped during the round: its wake-up has passed
        await this.pause(pauseMs)
      }
    })()
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve
      setTimeout(resolve, ms).unref() // a stopped task must not hold the process open
    })
  }

  /** Stops, and resolves when the round under way (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.loop
  }
}
