// Command-line flags for the headless CLIs: `--name value`, `--flag` (true), repeated flags collect.

export class UsageError extends Error {}

export type Flags = Map<string, string[]>;

export function parseFlags(args: readonly string[], known: readonly string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}" (flags start with --)`);
    const [name, inline] = a.slice(2).split('=', 2);
    if (!known.includes(name)) throw new UsageError(`unknown flag --${name}; known: ${known.map((k) => `--${k}`).join(' ')}`);
    const value = inline ?? (args[i + 1] !== undefined && !args[i + 1].startsWith('--') ? args[++i] : 'true');
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return flags;
}

export function str(flags: Flags, name: string, fallback: string): string {
  return flags.get(name)?.at(-1) ?? fallback;
}

export function num(flags: Flags, name: string, fallback: number): number {
  const v = flags.get(name)?.at(-1);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got "${v}"`);
  return n;
}

export function list(flags: Flags, name: string): string[] {
  return (flags.get(name) ?? []).flatMap((v) => v.split(',')).filter(Boolean);
}
