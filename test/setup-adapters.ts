// Runs before every test file (vitest `setupFiles`): what each process entry of Flotilla does
// before it loads or plans a fleet, so tests that call core directly see the same world.
import { useAwsIndexFiles } from '../src/resource-types/aws-index-files.ts'

useAwsIndexFiles()
