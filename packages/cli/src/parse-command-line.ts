import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

/** `--help`/`-h`, accepted by every command. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

type CommandLineConfig = Omit<ParseArgsConfig, 'args' | 'strict' | 'allowPositionals' | 'tokens'>;
type StrictConfig<T extends CommandLineConfig> = T & { args: string[]; strict: true; allowPositionals: true };

/** How an option is written on the command line, for messages: `--ring-size` or `-d`. */
function spelling(rawName: string): string {
  return JSON.stringify(rawName).slice(1, -1);
}

/**
 * Check every token against the options, so that each mistake gets one plain line of our own
 * (node's parseArgs texts are long, mention internals and are not stable across versions).
 */
function checkTokens(args: readonly string[], config: CommandLineConfig): void {
  const options = config.options ?? {};
  const { tokens } = parseArgs({ ...config, args: [...args], strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const raw = spelling(token.rawName);
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (option === undefined) {
      // `-1` is most often a negative number meant as an argument.
      if (/^-\d/.test(token.rawName)) throw new UsageError(`unknown option ${raw} (negative numbers are not accepted here)`);
      throw new UsageError(`unknown option ${raw}`);
    }
    if (option.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`${raw} takes no value, got ${JSON.stringify(token.value)}`);
      continue;
    }
    if (token.value === undefined) throw new UsageError(`${raw} needs a value`);
    // `--backend --quiet`: parseArgs would take the next option as the value.
    if (!token.inlineValue && token.value.startsWith('-') && !/^-\d/.test(token.value)) {
      throw new UsageError(`${raw} needs a value, got the option ${spelling(token.value)} (write ${raw}=${spelling(token.value)} if that is the value)`);
    }
  }
}

/**
 * node:util parseArgs with positionals allowed; any mistake becomes a one-line UsageError (exit
 * code 2). checkTokens() enforces what strict mode would (and a little more: a negative number
 * after a string option is taken as its value, for parseInteger to judge), so the lenient parse
 * that follows returns exactly the strict result. Commands spread HELP_OPTION into their options.
 */
export function parseCommandLine<T extends CommandLineConfig>(
  args: readonly string[],
  config: T,
): ReturnType<typeof parseArgs<StrictConfig<T>>> {
  checkTokens(args, config);
  return parseArgs({ ...config, args: [...args], strict: false, allowPositionals: true }) as unknown as ReturnType<typeof parseArgs<StrictConfig<T>>>;
}

/** A non-negative integer from the command line, e.g. a domid or a count. */
export function parseInteger(text: string | undefined, what: string, limits: { min?: number; max?: number } = {}): number {
  const min = limits.min ?? 0;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  if (text === undefined || !/^\d+$/.test(text)) throw new UsageError(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(text ?? '')}`);
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
