import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');

/** A fenced block of the README: its language, the heading it sits under, its lines. */
export interface ReadmeBlock {
  readonly lang: string;
  readonly heading: string;
  readonly text: string;
  /** The line of the README its first line is on, for messages. */
  readonly line: number;
}

/** Every fenced block of the README, in order. */
export function readReadmeBlocks(text = readFileSync(README, 'utf8')): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  let open: { lang: string; line: number; lines: string[] } | undefined;
  text.split('\n').forEach((line, index) => {
    if (open !== undefined) {
      if (line.startsWith('```')) {
        blocks.push({ lang: open.lang, heading, text: open.lines.join('\n'), line: open.line });
        open = undefined;
      } else open.lines.push(line);
      return;
    }
    const fence = /^```(\w*)$/.exec(line);
    if (fence !== null) open = { lang: fence[1] ?? '', line: index + 2, lines: [] };
    else if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
  });
  if (open !== undefined) throw new Error(`README: the block opened at line ${open.line - 1} is never closed`);
  return blocks;
}

/** The sh blocks under `heading`, in order. */
export function shBlocksUnder(heading: string, blocks = readReadmeBlocks()): ReadmeBlock[] {
  return blocks.filter((block) => block.lang === 'sh' && block.heading === heading);
}

/**
 * The commands of an sh block, one per line, without their trailing comments (a `#` after
 * spaces and before a space: a `#` inside a word, as in `s#a#b#`, stays).
 */
export function commandsOf(block: ReadmeBlock): string[] {
  return block.text
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '');
}
