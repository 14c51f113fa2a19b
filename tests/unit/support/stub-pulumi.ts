// A stand-in `pulumi` for the CLI's direct engine runs: a shell script that records its arguments in
// `$STUB_DIR/args`, finds the `--event-log` file it was given (in `$log`), runs `body` and answers `$STUB_OUTPUT` with
// exit code `$STUB_EXIT` (default 0).

/** The stub's script; `body` runs with `$log` set (empty without `--event-log`). */
export function stubPulumi(body: string): string {
  return `#!/bin/sh
printf '%s\\n' "$@" > "$STUB_DIR/args"
log=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--event-log" ]; then log="$a"; fi
  prev="$a"
done
${body.trim()}
printf '%s\\n' "$STUB_OUTPUT"
exit "\${STUB_EXIT:-0}"
`;
}
