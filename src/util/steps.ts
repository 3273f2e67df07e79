/*
 * A long operation reads as a list of named steps: each step is a small function with one job that
 * takes the operation's shared context, and the list says, in order, what the operation does.
 */

/** Returned by a step when the operation's work is complete: the steps after it do not run. */
export const DONE = Symbol('done');
export type Done = typeof DONE;

export type Step<C> = (ctx: C) => void | Done;
export type AsyncStep<C> = (ctx: C) => void | Done | Promise<void | Done>;

/** Runs `steps` in order on `ctx`; returns DONE when one of them ended the run early. */
export function runSteps<C>(ctx: C, steps: readonly Step<C>[]): Done | undefined {
  for (const step of steps) if (step(ctx) === DONE) return DONE;
  return undefined;
}

/** {@link runSteps} for steps that may wait: each runs once the one before it has settled. */
export async function runStepsAsync<C>(ctx: C, steps: readonly AsyncStep<C>[]): Promise<Done | undefined> {
  for (const step of steps) if ((await step(ctx)) === DONE) return DONE;
  return undefined;
}
