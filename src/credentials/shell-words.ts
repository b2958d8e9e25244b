const SHELL_SPACE = ' \t\r\n';

/**
 * Splits `text` into words like Python's `shlex.split` (POSIX mode), which botocore applies to
 * `[profile …]` headers of the AWS config file: quotes group words, a backslash escapes.
 * Returns undefined where shlex raises (an unclosed quote, a trailing backslash).
 */
export function splitShellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\') {
        if (i + 1 >= text.length) return undefined;
        i += 1;
        const next = text.charAt(i);
        // Inside double quotes a backslash only escapes `"` and itself.
        word += next === '"' || next === '\\' ? next : char + next;
      } else word += char;
    } else if (SHELL_SPACE.includes(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (char === '\\') {
        if (i + 1 >= text.length) return undefined;
        i += 1;
        word += text.charAt(i);
      } else if (char === '"' || char === "'") quote = char;
      else word += char;
    }
  }
  if (quote !== undefined) return undefined;
  if (inWord) words.push(word);
  return words;
}
