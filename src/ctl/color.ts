import type { Env } from '../paths.js';

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan';

/** Wraps text in a style's escape codes, or gives it back as is when colour is off. */
export type Paint = (style: Style, text: string) => string;

const CODES: Readonly<Record<Style, readonly [number, number]>> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
};

export interface ColorChoice {
  readonly env: Env;
  /** Whether what is painted goes to a terminal. */
  readonly isTTY: boolean;
  /** `--no-color`. */
  readonly noColorFlag: boolean;
}

/**
 * Colour only on a terminal, and never with `--no-color` or `NO_COLOR` set to anything (even
 * empty: a person who bothered to set it meant it), nor on a `dumb` terminal.
 */
export function shouldUseColor({ env, isTTY, noColorFlag }: ColorChoice): boolean {
  return isTTY && !noColorFlag && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export function createPaint(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text;
  return (style, text) => (text === '' ? text : `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m`);
}

// Built from a string: a control character in a regex literal reads as a mistake.
const ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** The text without colour codes: what a reader sees, for measuring widths. */
export function stripColor(text: string): string {
  return text.replace(ESCAPE, '');
}
