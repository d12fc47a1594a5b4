import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConversationApp, type ConversationApp } from '../scripts/lib/conversations/app.js';
import { ConversationFailure, runCall } from '../scripts/lib/conversations/run.js';
import { readConversationFile } from '../scripts/lib/conversations/spec.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';

/**
 * The conversation-test runner itself, on a copy of the fixture flow whose main-menu key 1 was
 * rerouted to the agent (a broken route): a test that passes must fail at the right step, saying what
 * it expected and what the caller heard, with the spoken code masked.
 */
let dir = '';
let app: ConversationApp;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vl-conv-'));
  cpSync(FIXTURE_FLOWS_DIR, path.join(dir, 'flows'), { recursive: true });
  const main = path.join(dir, 'flows', 'main.yaml');
  writeFileSync(main, readFileSync(main, 'utf8').replace('      1: { next: balance-gate }', '      1: { next: balance-gate }\n      3: { next: agent }'));
  app = await startConversationApp({ flowsDir: path.join(dir, 'flows') });
}, 30_000);
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

function calls(yaml: string) {
  const file = path.join(dir, 'case.yaml');
  writeFileSync(file, yaml);
  return readConversationFile(file);
}

async function failureOf(yaml: string): Promise<string> {
  const [call] = calls(yaml);
  if (!call) throw new Error('no call');
  try {
    await runCall(app, call);
  } catch (err) {
    if (err instanceof ConversationFailure) return err.message;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('conversation tests', () => {
  it('when every step holds, then the call passes (dial, press, hear, confirm, not_hear, hang_up)', async () => {
    const [call] = calls(`
- call: balance
  steps:
    - dial: { customer: cust_001 }
    - press: 1
    - hear: /code is \\d(, \\d){5}/
    - confirm
    - hear: you are verified
    - not_hear: press 1 for
    - hear: your available balance is
    - hang_up
`);
    await expect(runCall(app, call ?? { name: '', file: '', steps: [] })).resolves.toBeUndefined();
  });

  it('when a route is broken, then the call fails at the step that expected the other branch, naming file:line, what it expected and what was heard', async () => {
    const message = await failureOf(`
- call: key 3 reads the balance
  steps:
    - dial: { customer: cust_001 }
    - press: 3
    - hear: Your code is
`);
    expect(message).toMatch(/case\.yaml:6: call "key 3 reads the balance", step 3 \(hear: Your code is\): expected to hear "Your code is", heard "Please hold while we connect you to an agent\." \(the call ended: transferred\)/);
  });

  it('when the caller hears what a test says they must not, then it fails quoting it, with the spoken code masked', async () => {
    const message = await failureOf(`
- call: no code
  steps:
    - dial: { customer: cust_001 }
    - press: 1
    - not_hear: /code is/
`);
    expect(message).toMatch(/expected not to hear \/code is\/, but heard "Your code is <code>\. Enter it/);
    expect(message).not.toMatch(/\d, \d, \d/);
  });

  it('when a transfer goes to the unverified queue but the test wants a verified one, then it says which queue it got', async () => {
    const message = await failureOf(`
- call: agent
  steps:
    - dial: { customer: cust_001 }
    - press: 0
    - transfer: { queue: agents, verified: true }
`);
    expect(message).toMatch(/expected a transfer to verified queue "agents", got agents-unverified/);
  });

  it('when an SMS never comes, then the step says so', async () => {
    const message = await failureOf(`
- call: sms
  steps:
    - dial: { customer: cust_001 }
    - press: 0
    - sms: { to: customer, containing: statement }
`);
    expect(message).toMatch(/expected an SMS to …0101 containing "statement", got none/);
  });

  it('when a test file has an unknown step, then reading it fails naming the line', () => {
    expect(() => calls('- call: x\n  steps:\n    - dial: {}\n    - pres: 1\n')).toThrow(/case\.yaml:4: 0\.steps\.1: .*\(steps: dial, press/);
  });
});
