/** The identity of the benchmark's own commits, so they work on a machine with no git configuration. */
export const FLOTILLA_GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Flotilla Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'Flotilla Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
}
