import type { NodeOf } from '../../flows/schema.js';
import type { CallState, Output } from '../types.js';
import { selectLocale } from './select-locale.js';
import { gather, goto, unexpected, wait, type Handler, type NodeContext, type Turn } from './context.js';

type Ctx = NodeContext<NodeOf<'menu'>>;

/** A keypad menu: one key picks an option; wrong keys and silence replay it until `maxAttempts`. */
export const menu: Handler<NodeOf<'menu'>> = {
  enter: (ctx) => ask(ctx, ctx.state),
  input(ctx, input) {
    switch (input.kind) {
      case 'digits': {
        // hasOwn: a plain object also answers "constructor" and friends.
        const option = Object.hasOwn(ctx.node.options, input.digits) ? ctx.node.options[input.digits] : undefined;
        if (!option) return retry(ctx, ctx.node.invalidPrompt);
        return option.locale === undefined ? goto(ctx.state, option.next) : selectLocale(ctx.state, option.locale, option.next);
      }
      case 'no_input':
        return retry(ctx, ctx.node.noInputPrompt);
      case 'resume':
        // The backend redirected the call while it sat here: replay the menu, it costs no attempt.
        return ask(ctx, ctx.state);
      case 'effect':
        return unexpected(ctx, input);
    }
  },
};

function ask(ctx: Ctx, state: CallState, before: Output[] = []): Turn {
  return wait(state, gather(ctx.node.timeoutSeconds), [...before, ctx.say(ctx.node.prompt)]);
}

function retry(ctx: Ctx, promptKey: string): Turn {
  const attempts = ctx.state.attempts + 1;
  if (attempts >= ctx.node.maxAttempts) return goto(ctx.state, ctx.node.onExhausted);
  return ask(ctx, { ...ctx.state, attempts }, [ctx.say(promptKey)]);
}
