/** What the stamp records of one file the build read. */
export interface StampedFile {
  readonly size: number
  readonly mtimeMs: number
  readonly sha256: string
}

/** The stamp's file name inside the build's directory. */
export declare const STAMP_FILE: string

/** What the stamp records of `file` (relative to `root`), or undefined when it does not exist. */
export declare function describeFile(root: string, file: string): StampedFile | undefined

/** Writes the stamp of a build into `dist`: each file the build read, by its path relative to the project. */
export declare function writeStamp(dist: string, inputs: Readonly<Record<string, StampedFile>>): void

/**
 * Whether the build in `dist` was made from the files under `root` as they are now. False when
 * there is no build, no stamp, or any recorded file changed or is gone.
 */
export declare function isFresh(root: string, dist: string): boolean
