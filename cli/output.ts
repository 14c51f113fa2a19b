/** How commands speak: results on stdout (as JSON with `--json`), progress and people's messages on stderr. */

/** The option of every command that prints a result: the result as JSON on stdout, progress stays on stderr. */
export const JSON_OPTION = ["--json", "print the result as JSON on stdout"] as const;

/**
 * Runs a command's work; with `--json` everything it says for people goes to stderr and its result, as JSON, alone to
 * stdout. Without it the result is not printed (the command has said it in words).
 */
export async function withJsonResult<T>(
  json: boolean | undefined,
  work: () => T | Promise<T>,
): Promise<void> {
  if (json !== true) {
    await work();
    return;
  }
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  let result: T;
  try {
    result = await work();
  } finally {
    console.log = log;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Whether what was written to stderr last ended its line (the engine's output may stop mid-line). */
let stderrAtLineStart = true;

/** Streams engine output to stderr, line by line, so stdout stays for results. */
export function progress(prefix = ""): (out: string) => void {
  return (out) => {
    if (out === "") return;
    process.stderr.write(prefix === "" ? out : out.replace(/^/gm, prefix));
    stderrAtLineStart = out.endsWith("\n");
  };
}

/** Writes whole lines to stderr beside the engine's output, each on a line of its own. */
export function progressLines(text: string): void {
  if (text === "") return;
  process.stderr.write(stderrAtLineStart ? text : `\n${text}`);
  stderrAtLineStart = text.endsWith("\n");
}
