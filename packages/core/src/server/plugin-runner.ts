import type { ReactNode } from 'react';
import { KilnError, messageOf } from '../shared/errors';
import type { KilnPlugin, PluginInstance, RenderContext, RenderErrorInfo } from '../shared/types';
import { addNonce } from './nonce';

/** The hooks of a plugin, as named in its errors. */
export type Hook =
  | 'setup'
  | 'wrap'
  | 'prepare'
  | 'head'
  | 'flush'
  | 'end'
  | 'dispose'
  | 'diagnostics';

interface PluginEntry {
  readonly plugin: KilnPlugin;
  instance: PluginInstance | undefined;
  ms: number;
}

type Report = (error: unknown, info: RenderErrorInfo) => void;

/**
 * Runs the plugins of one render, in their order, through their hooks. Every call is timed
 * (the plugin's figure in the diagnostics) and a throw is wrapped as `KILN_PLUGIN_ERROR`
 * naming the plugin and the hook. The hooks that shape the document (`setup`, `wrap`,
 * `prepare`) let their errors through; the hooks that add HTML or clean up (`head`,
 * `flush`, `end`, `dispose`, `diagnostics`) report them and go on with the next plugin.
 */
export class PluginRunner {
  private readonly entries: PluginEntry[] = [];
  private readonly report: Report;

  constructor(plugins: readonly KilnPlugin[] | undefined, report: Report) {
    this.report = report;
    if (plugins) {
      for (const plugin of plugins) this.entries.push({ plugin, instance: undefined, ms: 0 });
    }
  }

  /**
   * Calls every `setup`, one after the other. `guard` lets the render stop waiting for a
   * hanging one (the abort signal).
   */
  async setup(ctx: RenderContext, guard: <T>(value: T | Promise<T>) => Promise<T>): Promise<void> {
    for (const entry of this.entries) {
      const setup = entry.plugin.setup;
      entry.instance = await guard(this.timed(entry, 'setup', () => setup.call(entry.plugin, ctx)));
    }
  }

  /** Every plugin's name with the instance its `setup` returned (after `setup`). */
  instances(): readonly [string, PluginInstance | undefined][] {
    return this.entries.map((entry) => [entry.plugin.name, entry.instance]);
  }

  /** Wraps the app in every plugin's `wrap`: the first plugin ends up outermost. */
  wrap(app: ReactNode): ReactNode {
    let wrapped = app;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i] as PluginEntry;
      const wrap = entry.instance?.wrap;
      if (wrap) wrapped = this.timed(entry, 'wrap', () => wrap.call(entry.instance, wrapped));
    }
    return wrapped;
  }

  /** Calls every `prepare` with the wrapped app, one after the other. */
  async prepare(
    app: ReactNode,
    ctx: RenderContext,
    guard: <T>(value: T | Promise<T>) => Promise<T>,
  ): Promise<void> {
    for (const entry of this.entries) {
      const prepare = entry.instance?.prepare;
      if (prepare)
        await guard(this.timed(entry, 'prepare', () => prepare.call(entry.instance, app, ctx)));
    }
  }

  /** The HTML of every plugin's `head` or `flush`, with the nonce added to its tags. */
  collect(hook: 'head' | 'flush', nonce: string | undefined): string {
    let html = '';
    for (const entry of this.entries) {
      const fn = entry.instance?.[hook];
      if (!fn) continue;
      try {
        const out = this.timed(entry, hook, () => fn.call(entry.instance));
        if (out) html += out;
      } catch (error) {
        this.report(error, { phase: 'plugin', plugin: entry.plugin.name });
      }
    }
    return addNonce(html, nonce);
  }

  /** Whether a plugin has an `end` hook (without one, the document ends without waiting). */
  get hasEnd(): boolean {
    return this.entries.some((entry) => Boolean(entry.instance?.end));
  }

  /** The HTML of every plugin's `end`, awaited in order; skips the rest once `stopped()`. */
  async collectEnd(nonce: string | undefined, stopped: () => boolean): Promise<string> {
    let html = '';
    for (const entry of this.entries) {
      const fn = entry.instance?.end;
      if (!fn || stopped()) continue;
      try {
        const out = await this.timed(entry, 'end', () => fn.call(entry.instance));
        if (out) html += out;
      } catch (error) {
        this.report(error, { phase: 'plugin', plugin: entry.plugin.name });
      }
    }
    return addNonce(html, nonce);
  }

  /** Whether a plugin has a `dispose` hook. */
  get hasDispose(): boolean {
    return this.entries.some((entry) => Boolean(entry.instance?.dispose));
  }

  /** Calls every `dispose`, one after the other, reporting what throws. */
  async dispose(): Promise<void> {
    for (const entry of this.entries) {
      const dispose = entry.instance?.dispose;
      if (!dispose) continue;
      try {
        await this.timed(entry, 'dispose', () => dispose.call(entry.instance));
      } catch (error) {
        this.report(error, { phase: 'plugin', plugin: entry.plugin.name });
      }
    }
  }

  /** Writes every plugin's figure (its time plus what its `diagnostics` returns) into `target`. */
  writeDiagnostics(target: Record<string, Record<string, number | string | boolean>>): void {
    for (const entry of this.entries) {
      let figures: Record<string, number | string | boolean> = {};
      const fn = entry.instance?.diagnostics;
      if (fn) {
        try {
          figures = { ...fn.call(entry.instance) };
        } catch (error) {
          this.report(pluginError(entry.plugin.name, 'diagnostics', error), {
            phase: 'plugin',
            plugin: entry.plugin.name,
          });
        }
      }
      target[entry.plugin.name] = { ms: entry.ms, ...figures };
    }
  }

  /** Runs a plugin hook, adds its time to the plugin's figure, and names the plugin in errors. */
  private timed<T>(entry: PluginEntry, hook: Hook, fn: () => T): T {
    const start = performance.now();
    let out: T;
    try {
      out = fn();
    } catch (error) {
      entry.ms += performance.now() - start;
      throw pluginError(entry.plugin.name, hook, error);
    }
    if (out instanceof Promise) {
      return out.then(
        (value) => {
          entry.ms += performance.now() - start;
          return value;
        },
        (error: unknown) => {
          entry.ms += performance.now() - start;
          throw pluginError(entry.plugin.name, hook, error);
        },
      ) as T;
    }
    entry.ms += performance.now() - start;
    return out;
  }
}

function pluginError(name: string, hook: Hook, error: unknown): KilnError {
  if (error instanceof KilnError && error.code === 'KILN_PLUGIN_ERROR') return error;
  const wrapped = new KilnError(
    'KILN_PLUGIN_ERROR',
    `plugin "${name}" threw in ${hook}(): ${messageOf(error)}; the error is attached as its cause, with its stack: look there for where it was thrown (the plugin, its options, or a package it loads)`,
    { cause: error },
  );
  (wrapped as KilnError & { plugin?: string }).plugin = name;
  return wrapped;
}

/** The name of the plugin a `KILN_PLUGIN_ERROR` came from. */
export function pluginOf(error: KilnError): string | undefined {
  return (error as KilnError & { plugin?: string }).plugin;
}
