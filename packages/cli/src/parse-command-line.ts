import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

/** `--help`/`-h`, accepted by every command. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * node:util parseArgs in strict mode with positionals allowed, its TypeError turned into a
 * UsageError (exit code 2). Commands spread HELP_OPTION into their options.
 */
type CommandLineConfig = Omit<ParseArgsConfig, 'args' | 'strict' | 'allowPositionals'>;
type StrictConfig<T extends CommandLineConfig> = T & { args: string[]; strict: true; allowPositionals: true };

export function parseCommandLine<T extends CommandLineConfig>(
  args: readonly string[],
  config: T,
): ReturnType<typeof parseArgs<StrictConfig<T>>> {
  try {
    return parseArgs<StrictConfig<T>>({ ...config, args: [...args], strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** A non-negative integer from the command line, e.g. a domid or a count. */
export function parseInteger(text: string | undefined, what: string, limits: { min?: number; max?: number } = {}): number {
  const min = limits.min ?? 0;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  if (text === undefined || !/^\d+$/.test(text)) throw new UsageError(`${what} must be an integer, got ${JSON.stringify(text ?? '')}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${what} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Exactly `names.length` positionals, by name for the error message. */
export function expectPositionals(positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length !== names.length) {
    const want = names.map((n) => `<${n}>`).join(' ');
    throw new UsageError(`expected ${want}, got ${positionals.length === 0 ? 'nothing' : positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  }
  return [...positionals];
}
