// Compose's splitting of a string `command`/`entrypoint` into arguments (POSIX shell words, as Python's shlex.split does).

/**
 * Splits like `shlex.split` (which docker-compose v1 and docker-py use): words separated by blanks; single quotes keep
 * everything literally; in double quotes a backslash escapes only `"` and `\`; outside quotes a backslash escapes the
 * next character; no comments, no expansion. A `${...}` reference stays one piece even when its default holds blanks.
 * Returns undefined for an unterminated quote or a trailing backslash.
 */
export function splitCommand(text: string): string[] | undefined {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
      continue;
    }
    if (ch === "$" && text[i + 1] === "{") {
      const close = text.indexOf("}", i);
      if (close < 0) return undefined;
      word += text.slice(i, close + 1);
      inWord = true;
      i = close;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) word += text[++i];
      else word += ch;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "\\") {
      if (i + 1 >= text.length) return undefined;
      word += text[++i];
    } else word += ch;
  }
  if (quote) return undefined;
  if (inWord) words.push(word);
  return words;
}
