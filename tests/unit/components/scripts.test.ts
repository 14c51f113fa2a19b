import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  COMMAND_ENV_ALLOWLIST,
  dumpLocation,
  dumpScript,
  partialLocation,
  rehearsalScript,
  SAME_DATABASE_EXIT_CODE,
  SCRIPT_INTERPRETER,
  STRICT_MODE,
} from "../../../components/database-scripts";
import { kebab, joinUrl, shellQuote, shortHash } from "../../../src/util";
import { probeCommand } from "../../../src/verify/probe-command";

describe("shellQuote", () => {
  it("survives the shell for any string", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((s) => !s.includes("\u0000")),
        (value) => {
          const echoed = execFileSync("/bin/sh", ["-c", `printf '%s' ${shellQuote(value)}`], {
            encoding: "utf8",
          });
          expect(echoed).toBe(value);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("naming helpers", () => {
  it.each([
    ["databaseUrl", "database-url"],
    ["jwtSigningKey", "jwt-signing-key"],
    ["Billing API key", "billing-api-key"],
  ])("kebab(%s) = %s", (input, output) => expect(kebab(input)).toBe(output));

  it("hashes part lists without ambiguity between boundaries", () => {
    expect(shortHash(["ab", "c"])).not.toBe(shortHash(["a", "bc"]));
    expect(shortHash(["x"], 12)).toMatch(/^[a-f0-9]{12}$/);
  });

  it.each([
    ["https://a/", "/v1/health", "https://a/v1/health"],
    ["https://a", "v1/health", "https://a/v1/health"],
    ["http://w:3001//", "//readyz", "http://w:3001/readyz"],
  ])("joinUrl(%s, %s)", (base, p, url) => expect(joinUrl(base, p)).toBe(url));
});

describe("database scripts", () => {
  it("names the dump after stack, release and id", () => {
    expect(dumpLocation("gs://b/p/", "production", "2026.11.3", "abc")).toBe(
      "gs://b/p/production-2026.11.3-abc.dump",
    );
    expect(partialLocation("/b/x.dump")).toBe("/b/x.dump.partial");
  });

  // Each script, and the lines it must contain in this order.
  const ordered: [string, string, string[]][] = [
    [
      "gs:// dump: pipefail, temporary object, verify, move",
      dumpScript("gs://b/x.dump"),
      [
        STRICT_MODE,
        'test -n "${DATABASE_URL:-}"',
        "trap 'gcloud storage rm --quiet gs://b/x.dump.partial",
        'pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" | gcloud storage cp - gs://b/x.dump.partial',
        "gcloud storage cat gs://b/x.dump.partial | { pg_restore --list >/dev/null && cat >/dev/null; }",
        "gcloud storage mv gs://b/x.dump.partial gs://b/x.dump",
        "trap - EXIT",
      ],
    ],
    [
      "local dump: pipefail, .partial file, verify, rename",
      dumpScript("/backups/x.dump"),
      [
        STRICT_MODE,
        "trap 'rm -f /backups/x.dump.partial' EXIT",
        "--file=/backups/x.dump.partial",
        "pg_restore --list /backups/x.dump.partial >/dev/null",
        "mv /backups/x.dump.partial /backups/x.dump",
        "trap - EXIT",
      ],
    ],
    [
      "rehearsal: same-database check, then restore, then the isolated migration",
      rehearsalScript("/backups/x.dump", "npm run migrate"),
      [
        STRICT_MODE,
        'test -n "${LIVE_DATABASE_URL:-}"',
        '--dbname="$LIVE_DATABASE_URL"',
        '--dbname="$REHEARSAL_DATABASE_URL" -c',
        '[ "$live_identity" = "$rehearsal_identity" ]',
        `exit ${SAME_DATABASE_EXIT_CODE}`,
        "unset LIVE_DATABASE_URL",
        "pg_restore --clean --if-exists",
        `printf '%s\\n' "$REHEARSAL_DATABASE_URL" | env -i PATH=`,
        "IFS= read -r DATABASE_URL",
        "npm run migrate",
        "migration rehearsal passed on the clone",
      ],
    ],
    [
      "rehearsal from gs://",
      rehearsalScript("gs://b/x.dump", "true"),
      [
        "pg_control_system()",
        "unset LIVE_DATABASE_URL",
        "gcloud storage cat gs://b/x.dump | pg_restore --clean",
      ],
    ],
  ];

  it.each(ordered)("%s", (_name, script, lines) => {
    let from = -1;
    for (const line of lines) {
      const at = script.indexOf(line, from + 1);
      expect(at, `${line} after position ${from} in\n${script}`).toBeGreaterThan(from);
      from = at;
    }
    expect(script.split("\n")[0]).toBe("set -euo pipefail");
  });

  it("compares database name and system identifier of both connections", () => {
    const script = rehearsalScript("/b/x.dump", "true");
    expect(
      script.match(/SELECT current_database\(\), system_identifier FROM pg_control_system\(\)/g),
    ).toHaveLength(2);
  });

  it("runs the migration with the allow-listed environment only, and no URL on a command line", () => {
    const script = rehearsalScript("/b/x.dump", "npm run migrate");
    const line = script.split("\n").find((l) => l.includes("env -i")) ?? "";
    const names = [...line.matchAll(/ ([A-Z_]+)="/g)].map((m) => m[1]);
    expect(names).toEqual([...COMMAND_ENV_ALLOWLIST]);
    expect(COMMAND_ENV_ALLOWLIST).toEqual(["PATH", "HOME", "LANG", "TMPDIR"]);
    // The URL reaches the migration through a builtin's pipe, never as an argument of a program.
    expect(script).not.toMatch(/DATABASE_URL=\$/);
  });

  it("runs under bash (pipefail needs it)", () => {
    expect(SCRIPT_INTERPRETER).toEqual(["/bin/bash", "-c"]);
  });

  it("is valid bash, whatever the paths and the migration command", () => {
    for (const script of [
      dumpScript("/b/x.dump"),
      dumpScript("/b b/it's.dump"),
      dumpScript("gs://b/x"),
      rehearsalScript("gs://b/x", "true"),
      rehearsalScript("/b b/it's.dump", `psql "$DATABASE_URL" -c 'select 1' | cat`),
    ]) {
      expect(() => execFileSync("/bin/bash", ["-n", "-c", script])).not.toThrow();
    }
  });
});

// The gs:// path run with stand-ins for pg_dump, pg_restore and gcloud that record what they were asked to do.
describe("the gs:// dump script, run with stand-in tools", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-gs-dump-"));
  const log = path.join(dir, "calls.log");
  const stub = (name: string, body: string) =>
    fs.writeFileSync(path.join(dir, name), `#!/bin/bash\necho "${name} $*" >> "${log}"\n${body}\n`, {
      mode: 0o755,
    });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (pgDumpExit: number) => {
    fs.rmSync(log, { force: true });
    stub("pg_dump", `printf 'PGDMP-partial'; exit ${pgDumpExit}`);
    // Like the real one, pg_restore --list reads the header only; gcloud cat writes more than a pipe buffer holds.
    stub("pg_restore", "head -c 5 >/dev/null; exit 0");
    stub(
      "gcloud",
      'if [ "$2" = cp ]; then cat >/dev/null; fi; if [ "$2" = cat ]; then printf PGDMP; head -c 1000000 /dev/zero; fi',
    );
    const result = spawnSync("/bin/bash", ["-c", dumpScript("gs://b/p/x.dump")], {
      env: { PATH: `${dir}:/usr/bin:/bin`, DATABASE_URL: "postgres://u:pw@db/nova" },
      encoding: "utf8",
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: result.status, calls };
  };

  it("a failing pg_dump fails the step and removes the temporary object; nothing is moved to the final name", () => {
    const { status, calls } = run(1);
    expect(status).not.toBe(0);
    expect(calls).toContain("gcloud storage cp - gs://b/p/x.dump.partial");
    expect(calls).toContain("gcloud storage rm --quiet gs://b/p/x.dump.partial");
    expect(calls.filter((c) => c.includes("gs://b/p/x.dump ") || c.endsWith("gs://b/p/x.dump"))).toEqual([]);
    expect(calls.some((c) => c.startsWith("gcloud storage mv"))).toBe(false);
  });

  it("a good dump is verified, then moved", () => {
    const { status, calls } = run(0);
    expect(status).toBe(0);
    const steps = calls.filter((c) => c.startsWith("gcloud") || c.startsWith("pg_restore"));
    expect(steps[0]).toBe("gcloud storage cp - gs://b/p/x.dump.partial");
    // The two sides of the verification pipe run at the same time: either may log first.
    expect(steps.slice(1, 3).sort()).toEqual([
      "gcloud storage cat gs://b/p/x.dump.partial",
      "pg_restore --list",
    ]);
    expect(steps.slice(3)).toEqual(["gcloud storage mv gs://b/p/x.dump.partial gs://b/p/x.dump"]);
  });
});

describe("the local dump script, run with stand-in tools", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-local-dump-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["pg_dump fails after writing part of the dump", 1, 0, false],
    ["pg_dump succeeds but the archive does not list", 0, 1, false],
    ["pg_dump succeeds and the archive lists", 0, 0, true],
  ])("%s", (name, pgDumpExit, listExit, kept) => {
    const bin = fs.mkdtempSync(path.join(dir, "bin-"));
    const script = (body: string) => `#!/bin/bash\n${body}\n`;
    // pg_dump writes to --file=<path> and then exits as told.
    fs.writeFileSync(
      path.join(bin, "pg_dump"),
      script(
        `for a in "$@"; do case "$a" in --file=*) printf PGDMP > "\${a#--file=}";; esac; done; exit ${pgDumpExit}`,
      ),
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(bin, "pg_restore"), script(`exit ${listExit}`), { mode: 0o755 });
    const target = path.join(dir, kebab(name), "x.dump");
    const result = spawnSync("/bin/bash", ["-c", dumpScript(target)], {
      env: { PATH: `${bin}:/usr/bin:/bin`, DATABASE_URL: "postgres://u@db/nova" },
      encoding: "utf8",
    });
    expect(result.status === 0).toBe(kept);
    expect(fs.existsSync(target)).toBe(kept);
    expect(fs.existsSync(partialLocation(target))).toBe(false);
  });
});

describe("probeCommand", () => {
  it("quotes arguments and passes the budget", () => {
    expect(
      probeCommand(
        "/r e/probe.js",
        "alerts-quiet",
        { kind: "alerts", url: "http://am:9093" },
        { attempts: 3, timeoutSeconds: 5, backoffMs: 100 },
      ),
    ).toBe(
      "node '/r e/probe.js' alerts --name alerts-quiet --url http://am:9093 --attempts 3 --timeout 5 --backoff-ms 100",
    );
  });

  it.each([
    ["a plain command", "npm run e2e", {}, "-- 'npm run e2e'"],
    [
      "quotes and operators stay inside the probe",
      `psql -c "select 1" | grep 1; env`,
      {},
      `-- 'psql -c "select 1" | grep 1; env'`,
    ],
    [
      "extra and secret variables by name",
      "true",
      { env: ["API_URL"], secretEnv: ["E2E_TOKEN"] },
      "--env API_URL --secret-env E2E_TOKEN --attempts",
    ],
  ])("exec: %s", (_name, command, extra, expected) => {
    const cmd = probeCommand(
      "/p.js",
      "synthetic-e2e",
      { kind: "exec", command, ...extra },
      { attempts: 1, timeoutSeconds: 1 },
    );
    expect(cmd).toContain(expected);
    // The shell that runs the probe sees one argument after `--`: nothing of the command runs outside the probe.
    const argv = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${cmd.replace(/^node \/p\.js /, "")}`], {
      encoding: "utf8",
    }).split("\0");
    expect(argv[argv.indexOf("--") + 1]).toBe(command);
  });
});
