import { action } from './action.js';
import type { Handlers } from './context.js';
import { hangup } from './hangup.js';
import { hours } from './hours.js';
import { menu } from './menu.js';
import { redirect } from './redirect.js';
import { say } from './say.js';
import { transfer } from './transfer.js';
import { verify } from './verify.js';

/** STYLE habit 4: a new node kind in the schema is a compile error here until it has a handler. */
export const handlers: Handlers = { say, menu, verify, action, transfer, hangup, redirect, hours };
