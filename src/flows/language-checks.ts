import type { Add } from './problems.js';
import type { Flow, FlowNode } from './schema.js';

/**
 * The caller's language and the data a node branches on: a menu option's `locale` and a dialled
 * number's route name locales (and flows) that exist, and `period: choose` is asked only of the action
 * that has statements.
 */

/** One node's own fields. */
export function checkNodeChoices(flow: Flow, id: string, node: FlowNode, add: Add): void {
  if (node.kind === 'menu') {
    for (const [key, option] of Object.entries(node.options)) {
      if (option.locale !== undefined && !flow.locales.includes(option.locale)) {
        add('locales', `options.${key}.locale "${option.locale}" is not one of this flow's locales (${flow.locales.join(', ')})`, id,
          ['nodes', id, 'options', key, 'locale'], `use one of ${flow.locales.join(', ')}, or add "${option.locale}" to locales with its prompts`);
      }
    }
  }
  if (node.kind === 'action' && node.period !== undefined && node.action !== 'statement-sms') {
    add('schema', `period is only for the statement-sms action, not "${node.action}"`, id, ['nodes', id, 'period'], 'remove period from this node');
  }
}

/** The main flow's `numbers`: each names a flow that exists and a locale that flow speaks. */
export function checkNumbers(flow: Flow, flowById: ((id: string) => Flow | undefined) | undefined, add: Add): void {
  if (flow.numbers === undefined) return;
  if (flow.id !== 'main') {
    add('schema', 'numbers is read from the main flow only (where every call starts): move it there', undefined, ['numbers'], 'move numbers to the main flow');
    return;
  }
  for (const [number, route] of Object.entries(flow.numbers)) {
    // The number itself is the bank's own line, not a caller's: naming it in a message is fine.
    const target = route.flow === undefined || route.flow === flow.id ? flow : flowById?.(route.flow);
    if (!target) {
      if (flowById) add('dangling_target', `numbers.${number}.flow → "${route.flow}" is not a flow`, undefined, ['numbers', number, 'flow'], 'name the id of a flow in this folder');
      continue;
    }
    if (route.locale !== undefined && !target.locales.includes(route.locale)) {
      add('locales', `numbers.${number}.locale "${route.locale}" is not one of flow "${target.id}"'s locales (${target.locales.join(', ')})`, undefined,
        ['numbers', number, 'locale'], `use one of ${target.locales.join(', ')}`);
    }
  }
}
