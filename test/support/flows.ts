import { fileURLToPath } from 'node:url';

/**
 * The flows the TypeScript tests run on: a frozen copy of the default flow under test/fixtures, so
 * the tests that assert what a caller hears do not break when a flow author rewords or extends the
 * shipped flows/ (those are tested by their own conversation tests, flows/tests/*.yaml).
 */
export const FIXTURE_FLOWS_DIR = fileURLToPath(new URL('../fixtures/flows/app', import.meta.url));
