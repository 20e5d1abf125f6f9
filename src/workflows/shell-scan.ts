// A small, conservative reader of `run:` scripts: simple commands, platformctl invocations, gate flags and variable mentions.
// It is not a shell parser: it finds what the workflow linter asks about and errs towards reporting.

/** One simple command: its words (quotes removed in `value`), where it starts, and the operator that follows it. */
export interface SimpleCommand {
  words: { raw: string; value: string; offset: number }[];
  offset: number;
  /** `&&`, `||`, `|`, `;`, `&`, `(`, `)`, `$(`, a backtick, or "" at the end of a logical line. */
  next: string;
  /** The command's status is consumed by `if`, `elif`, `while`, `until` or `!`. */
  conditional: boolean;
  /** Index of this command within its logical line. */
  index: number;
  line: number;
}

/** A platformctl run found in a script: the subcommand and its arguments (after the global options). */
export interface Invocation {
  sub: string | undefined;
  args: string[];
  offset: number;
  command: SimpleCommand;
  /** The command after this one on the same logical line, when joined by `next`. */
  following: SimpleCommand | undefined;
}

const SEPARATORS = ["&&", "||", "$(", "|", ";", "&", "(", ")", "`"];
const LEADING_KEYWORDS = new Set(["then", "do", "else", "{", "}", "time", "exec", "nohup", "command", "builtin", "sudo"]);
const CONDITIONAL_KEYWORDS = new Set(["if", "elif", "while", "until", "!"]);
const GLOBAL_WITH_VALUE = new Set(["--modules-dir", "--project"]);

/** Splits a script into logical lines (backslash-newline joined), keeping the offset each starts at. */
function logicalLines(script: string): { text: string; offset: number; line: number }[] {
  const out: { text: string; offset: number; line: number }[] = [];
  const lines = script.split("\n");
  let offset = 0;
  let current: { text: string; offset: number; line: number } | undefined;
  lines.forEach((l, i) => {
    if (current) current.text += ` ${l}`;
    else current = { text: l, offset, line: i };
    offset += l.length + 1;
    if (/(^|[^\\])(\\\\)*\\$/.test(l)) current.text = current.text.slice(0, -1);
    else {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

/** Simple commands of a script, in order. Comments are dropped; `$(` and backticks start nested commands. */
export function simpleCommands(script: string): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  for (const ll of logicalLines(script)) {
    const text = ll.text;
    let words: SimpleCommand["words"] = [];
    let raw = "";
    let value = "";
    let start = -1;
    let quote: "'" | '"' | "" = "";
    const nesting: ("'" | '"' | "")[] = [];
    let index = 0;
    const endWord = () => {
      if (start !== -1) words.push({ raw, value, offset: ll.offset + start });
      raw = "";
      value = "";
      start = -1;
    };
    const endCommand = (next: string) => {
      endWord();
      let conditional = false;
      while (words.length && (LEADING_KEYWORDS.has(words[0]!.value) || CONDITIONAL_KEYWORDS.has(words[0]!.value))) {
        if (CONDITIONAL_KEYWORDS.has(words[0]!.value)) conditional = true;
        words = words.slice(1);
      }
      if (words.length) out.push({ words, offset: words[0]!.offset, next, conditional, index: index++, line: ll.line });
      words = [];
    };
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (quote === "'") {
        raw += ch;
        if (ch === "'") quote = "";
        else value += ch;
        continue;
      }
      if (ch === "\\" && i + 1 < text.length) {
        if (start === -1) start = i;
        raw += ch + text[i + 1];
        value += text[i + 1];
        i += 1;
        continue;
      }
      if (quote === '"') {
        if (ch === "$" && text[i + 1] === "(") {
          endCommand("$(");
          nesting.push(quote);
          quote = "";
          i += 1;
          continue;
        }
        raw += ch;
        if (ch === '"') quote = "";
        else value += ch;
        continue;
      }
      if (ch === "'" || ch === '"') {
        if (start === -1) start = i;
        quote = ch;
        raw += ch;
        continue;
      }
      if (ch === "#" && start === -1) break;
      if (ch === " " || ch === "\t") {
        endWord();
        continue;
      }
      if (ch === "<" && text.startsWith("<<<", i)) {
        endWord();
        words.push({ raw: "<<<", value: "<<<", offset: ll.offset + i });
        i += 2;
        continue;
      }
      if (ch === "$" && text[i + 1] === "{") {
        // ${...} stays inside the word, whatever it holds
        const close = text.indexOf("}", i);
        if (start === -1) start = i;
        const part = close === -1 ? text.slice(i) : text.slice(i, close + 1);
        raw += part;
        value += part;
        i += part.length - 1;
        continue;
      }
      const sep = SEPARATORS.find((s) => text.startsWith(s, i));
      if (sep) {
        endCommand(sep);
        if (sep === "$(" || sep === "(") nesting.push("");
        if (sep === ")" && nesting.length) quote = nesting.pop() as typeof quote;
        i += sep.length - 1;
        continue;
      }
      if (start === -1) start = i;
      raw += ch;
      value += ch;
    }
    endCommand("");
  }
  return out;
}

/** Names that run platformctl in this script: shell functions wrapping it and variables holding the command. */
function platformctlAliases(script: string): { functions: Set<string>; variables: Set<string> } {
  const functions = new Set<string>();
  const variables = new Set<string>();
  for (const m of script.matchAll(/(?:^|\n)[ \t]*(?:function[ \t]+)?([A-Za-z_][\w-]*)[ \t]*\(\)[ \t]*\{[^}]*\bplatformctl\b/g))
    functions.add(m[1] as string);
  for (const m of script.matchAll(/(?:^|[\s;])([A-Za-z_]\w*)=(?:\(|["']?)[^\n]*\bplatformctl\b/g)) variables.add(m[1] as string);
  return { functions, variables };
}

function isPlatformctlWord(value: string, aliases: { functions: Set<string>; variables: Set<string> }): boolean {
  const base = value.split("/").pop() ?? value;
  // `npx platformctl@1.2.3`, `npx @scope/platformctl@latest` name a version of the same program
  if (/^platformctl(?:\.js|@[^\s/]+)?$/.test(base)) return true;
  if (aliases.functions.has(value)) return true;
  const v = /^\$\{?([A-Za-z_]\w*)(?:\[[@*]\])?\}?$/.exec(value);
  return Boolean(v && aliases.variables.has(v[1] as string));
}

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "ash"]);

/** Programs that run the command given in their arguments. */
const WRAPPERS = new Set(["xargs", "timeout", "nice", "ionice", "stdbuf", "setsid", "flock", "docker", "podman", "nsenter", "doas"]);

const commandBase = (w: string): string => w.split("/").pop() ?? w;

/**
 * Code a simple command hands to another shell: the `-c` argument of `sh`/`bash`/…, or the words of `eval`.
 * `offset` is where that code starts in the script (exact for a single-line argument).
 */
export function nestedScripts(c: SimpleCommand): { code: string; offset: number; word: SimpleCommand["words"][number] }[] {
  const words = c.words;
  const head = (words[0]?.value ?? "").split("/").pop() ?? "";
  const start = (w: SimpleCommand["words"][number]) => w.offset + (w.raw.startsWith("'") || w.raw.startsWith('"') ? 1 : 0);
  if (head === "eval" && words.length > 1) {
    const rest = words.slice(1);
    return [{ code: rest.map((w) => w.value).join(" "), offset: start(rest[0]!), word: rest[0]! }];
  }
  if (SHELLS.has(head)) {
    const c1 = words.findIndex((w, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(w.value));
    const arg = c1 === -1 ? undefined : words[c1 + 1];
    if (arg) return [{ code: arg.value, offset: start(arg), word: arg }];
  }
  return [];
}

/** The platformctl subcommand runs of a script (`npx --no-install platformctl apply …`, wrappers and `bash -c "…"` included). */
export function platformctlInvocations(script: string, depth = 0): Invocation[] {
  const aliases = platformctlAliases(script);
  const commands = simpleCommands(script);
  const out: Invocation[] = [];
  commands.forEach((c, ci) => {
    const words = c.words.map((w) => w.value);
    let i = 0;
    while (i < words.length && /^[A-Za-z_]\w*=/.test(words[i] as string)) i += 1;
    // launchers: npx / npm exec / node with their own options
    for (;;) {
      const w = words[i];
      if (w === undefined) break;
      if (w === "npx" || w === "node" || w === "env") {
        i += 1;
        while (i < words.length && (words[i] as string).startsWith("-")) i += words[i] === "-p" || words[i] === "--package" ? 2 : 1;
        continue;
      }
      if (w === "npm" && (words[i + 1] === "exec" || words[i + 1] === "x")) {
        i += 2;
        while (i < words.length && (words[i] as string).startsWith("-")) i += 1;
        continue;
      }
      break;
    }
    if (depth < 3) {
      for (const n of nestedScripts(c)) {
        for (const inv of platformctlInvocations(n.code, depth + 1))
          out.push({ ...inv, offset: n.offset + inv.offset, command: c, following: undefined });
      }
    }
    // wrappers that run the command they are given (`xargs npx platformctl …`, `timeout 5m platformctl …`, `docker run
    // IMAGE platformctl …`): erring towards reporting, platformctl anywhere among a wrapper's words is a run of it
    if (words[i] !== undefined && WRAPPERS.has(commandBase(words[i] as string))) {
      const at = words.findIndex((w, k) => k > i && isPlatformctlWord(w, aliases));
      if (at !== -1) i = at;
    }
    const name = words[i];
    if (name === undefined || !isPlatformctlWord(name, aliases)) return;
    i += 1;
    while (i < words.length && (words[i] as string).startsWith("-")) {
      const w = words[i] as string;
      i += GLOBAL_WITH_VALUE.has(w) ? 2 : 1;
    }
    const next = commands[ci + 1];
    out.push({
      sub: words[i],
      args: words.slice(i + 1),
      offset: c.offset,
      command: c,
      following: next && next.line === c.line && c.next !== "" ? next : undefined,
    });
  });
  return out;
}

/** Flags of the policy gate (plus the module and plan selection) that a script passes, sorted: "the same inputs". */
export const GATE_FLAGS = [
  "--allow-stateful",
  "--backup-ref",
  "--confirm",
  "--bootstrap",
  "--rerun",
  "--maintenance",
  "--backup-max-age",
  "--plan",
  "--module",
] as const;

export function gateFlags(script: string): string[] {
  const found = new Set<string>();
  const code = script
    .split("\n")
    .map((l) => l.replace(/(^|\s)#.*$/, "$1"))
    .join("\n");
  for (const m of code.matchAll(/(?:^|[\s("'=])(--[a-z-]+)(?=$|[\s)"'=])/gm)) {
    if ((GATE_FLAGS as readonly string[]).includes(m[1] as string)) found.add(m[1] as string);
  }
  return [...found].sort();
}

/**
 * Mentions of the given variables (`$NAME`, `${NAME}`, `${NAME:-…}`) that put the value somewhere visible: a
 * command line, or echo/printf output that is not piped on. Allowed: presence tests (`[ -n "$X" ]`, `test -z`,
 * `: "${X:?}"`), here-strings (`cmd <<<"$X"`), and echo/printf piped into another command's stdin.
 */
export function exposedMentions(script: string, names: ReadonlySet<string>): { name: string; offset: number }[] {
  if (names.size === 0) return [];
  const out: { name: string; offset: number }[] = [];
  const commands = simpleCommands(script);
  commands.forEach((c, ci) => {
    const head = c.words[0]?.value ?? "";
    const presenceTest = (head === "[" || head === "[[" || head === "test") && c.words.some((w) => w.value === "-n" || w.value === "-z");
    const next = commands[ci + 1];
    const pipedInto = c.next === "|" && next ? commandName(next) : undefined;
    // echo/printf into another program's stdin is fine, unless that program prints its input again
    const piped = (head === "echo" || head === "printf") && pipedInto !== undefined && !PRINTS_STDIN.has(pipedInto);
    // the whole environment, secrets included, on stdout
    const dumpsAll =
      (head === "printenv" || head === "env" || head === "export" || head === "declare" || head === "typeset" || head === "set") &&
      dumpsEnvironment(c);
    if (dumpsAll) out.push({ name: [...names][0] as string, offset: c.offset });
    if (head === "printenv") for (const w of c.words.slice(1)) if (names.has(w.value)) out.push({ name: w.value, offset: w.offset });
    c.words.forEach((w, wi) => {
      for (const m of w.raw.matchAll(/\$\{?([A-Za-z_]\w*)/g)) {
        const name = m[1] as string;
        if (!names.has(name)) continue;
        const hereString = wi > 0 && c.words[wi - 1]?.value === "<<<" && !PRINTS_STDIN.has(commandName(c));
        const check = head === ":" || presenceTest;
        if (hereString || check || piped) continue;
        out.push({ name, offset: w.offset });
      }
    });
  });
  return out;
}

/** Programs that copy their stdin to stdout (or an encoding of it): feeding them a secret prints it. */
const PRINTS_STDIN = new Set([
  "cat",
  "tee",
  "head",
  "tail",
  "base64",
  "base32",
  "xxd",
  "od",
  "hexdump",
  "rev",
  "tr",
  "sed",
  "awk",
  "cut",
  "sort",
  "uniq",
  "less",
  "more",
  "nl",
  "fold",
  "tac",
  "strings",
  "jq",
]);

/** A command's program name (after `VAR=x` assignments, without a path). */
function commandName(c: SimpleCommand): string {
  const w = c.words.find((x) => !/^[A-Za-z_]\w*=/.test(x.value));
  return (w?.value ?? "").split("/").pop() ?? "";
}

/** `printenv`, `env` (no command), `export -p`/`export`, `declare -p`/`-x` without names, `set` without arguments. */
function dumpsEnvironment(c: SimpleCommand): boolean {
  const [head, ...rest] = c.words.map((w) => w.value);
  if (head === "printenv") return rest.filter((r) => !r.startsWith("-")).length === 0;
  if (head === "env") return rest.every((r) => r.startsWith("-") || /^[A-Za-z_]\w*=/.test(r));
  if (head === "set") return rest.length === 0;
  if (head === "export") return rest.length === 0 || (rest.length === 1 && rest[0] === "-p");
  return (head === "declare" || head === "typeset") && rest.every((r) => r.startsWith("-")) && rest.some((r) => /[px]/.test(r));
}

/**
 * Variables whose value a script runs as code: mentioned in an `eval` or in the `-c` argument of a shell, piped or
 * here-stringed into a shell reading its script on stdin, or printed into `source <(…)`. A
 * variable bound to an untrusted expression there is a script injection, even though it came through env:.
 */
export function executedVariables(script: string, names: ReadonlySet<string>): { name: string; offset: number }[] {
  if (names.size === 0) return [];
  const out: { name: string; offset: number }[] = [];
  const mentions = (words: SimpleCommand["words"]) => {
    for (const w of words)
      for (const m of w.raw.matchAll(/\$\{?([A-Za-z_]\w*)/g))
        if (names.has(m[1] as string)) out.push({ name: m[1] as string, offset: w.offset });
  };
  const commands = simpleCommands(script);
  commands.forEach((c, ci) => {
    for (const n of nestedScripts(c)) mentions(commandName(c) === "eval" ? c.words.slice(1) : [n.word]);
    const next = commands[ci + 1];
    // `echo "$X" | sh`: the value is the script a shell reads on stdin (a shell given -c reads its argument instead)
    if (c.next === "|" && next && readsScriptOnStdin(next)) mentions(c.words);
    // `bash <<< "$X"`
    if (readsScriptOnStdin(c)) mentions(c.words.filter((_, wi) => wi > 0 && c.words[wi - 1]?.value === "<<<"));
    // `source <(echo "$X")`, `. <(…)`: the command inside the process substitution prints the script
    const prev = commands[ci - 1];
    if (prev && prev.next === "(" && prev.words.at(-1)?.value === "<" && ["source", "."].includes(commandName(prev))) mentions(c.words);
  });
  return out;
}

/** A shell reading its script from stdin: `sh`, `bash -s`, not `bash -c …` or `bash file`. */
function readsScriptOnStdin(c: SimpleCommand): boolean {
  if (!SHELLS.has(commandName(c))) return false;
  const args = c.words.slice(c.words.findIndex((w) => SHELLS.has(commandBase(w.value))) + 1).map((w) => w.value);
  if (args.some((a) => /^-[a-z]*c[a-z]*$/.test(a))) return false;
  const operands = args.filter((a) => !a.startsWith("-") && a !== "<<<");
  return operands.length === 0 || args.includes("-s") || args.includes("<<<");
}
