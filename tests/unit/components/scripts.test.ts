import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  COMMAND_ENV_ALLOWLIST,
  connectionEnv,
  DUMP_EXISTS_EXIT_CODE,
  dumpLocationFrom,
  dumpPrefix,
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
  it("names each dump after stack, release, id and the time it starts", () => {
    expect(dumpPrefix("gs://b/p/", "production", "2026.11.3", "abc")).toBe(
      "gs://b/p/production-2026.11.3-abc",
    );
    expect(partialLocation("/b/x.dump")).toBe("/b/x.dump.partial");
    expect(dumpLocationFrom("x\nlogical dump written to gs://b/p/a-20261203T150405Z.dump")).toBe(
      "gs://b/p/a-20261203T150405Z.dump",
    );
    expect(dumpLocationFrom(undefined)).toBeUndefined();
  });

  // Each script, and the lines it must contain in this order.
  const ordered: [string, string, string[]][] = [
    [
      "gs:// dump: pipefail, no existing name, temporary object, verify, move without clobbering, checked",
      dumpScript("gs://b/x"),
      [
        STRICT_MODE,
        'test -n "${LIVE_PG_URL:-}"',
        `location=gs://b/x-"$(date -u +%Y%m%dT%H%M%SZ)".dump`,
        'if gcloud storage ls "$location"',
        'trap \'gcloud storage rm --quiet "$partial"',
        'pg_as LIVE pg_dump --format=custom --no-owner --dbname="$LIVE_PG_URL" | gcloud storage cp --no-clobber - "$partial"',
        'gcloud storage cat "$partial" | { pg_restore --list >/dev/null && cat >/dev/null; }',
        'gcloud storage mv --no-clobber "$partial" "$location"',
        'if gcloud storage ls "$partial"',
        "trap - EXIT",
        'echo "logical dump written to ${location}"',
      ],
    ],
    [
      "local dump: pipefail, .partial file, verify, link (never replaces)",
      dumpScript("/backups/x"),
      [
        STRICT_MODE,
        "location=/backups/x-",
        "trap 'rm -f \"$partial\"' EXIT",
        'if [ -e "$location" ]; then exists; fi',
        '--file="$partial"',
        'pg_restore --list "$partial" >/dev/null',
        'if ln "$partial" "$location"',
        'mv -n "$partial" "$location"',
        "trap - EXIT",
      ],
    ],
    [
      "rehearsal: same-database check, then restore, then the isolated migration",
      rehearsalScript("/backups/x.dump", "npm run migrate"),
      [
        STRICT_MODE,
        'test -n "${LIVE_PG_URL:-}"',
        'pg_as LIVE psql -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$LIVE_PG_URL"',
        'pg_as REHEARSAL psql -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$REHEARSAL_PG_URL" -c',
        '[ "$live_identity" = "$rehearsal_identity" ]',
        `exit ${SAME_DATABASE_EXIT_CODE}`,
        "unset LIVE_PG_URL LIVE_PGPASSWORD",
        "pg_as REHEARSAL pg_restore --clean --if-exists",
        `printf '%s\\n' "$MIGRATION_DATABASE_URL" | env -i PATH=`,
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
        "unset LIVE_PG_URL",
        "gcloud storage cat gs://b/x.dump | pg_as REHEARSAL pg_restore --clean",
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
      dumpScript("/b/x"),
      dumpScript("/b b/it's"),
      dumpScript("gs://b/x"),
      rehearsalScript("gs://b/x", "true"),
      rehearsalScript("/b b/it's.dump", `psql "$DATABASE_URL" -c 'select 1' | cat`),
    ]) {
      expect(() => execFileSync("/bin/bash", ["-n", "-c", script])).not.toThrow();
    }
  });

  describe.each([
    [
      "a URI",
      "postgres://nova:s3cr%40t@db:5432/nova?sslmode=require",
      "postgres://nova@db:5432/nova?sslmode=require",
      "s3cr@t",
    ],
    [
      "a password parameter",
      "postgresql://db/nova?password=p%26w&sslmode=require",
      "postgresql://db/nova?sslmode=require",
      "p&w",
    ],
    ["keyword/value", "host=db password='it''s' dbname=nova", "host=db dbname=nova", "it's"],
    ["no password", "postgres://nova@db/nova", "postgres://nova@db/nova", undefined],
  ])("connectionEnv from %s", (_name, url, connection, password) => {
    it("puts the password in its own variable and keeps it out of the connection string", () => {
      const env = connectionEnv("LIVE", url.replace("'it''s'", "'it\\'s'"));
      expect(env.LIVE_PG_URL).toBe(connection);
      expect(env.LIVE_PGPASSWORD).toBe(password);
    });
  });
});

// The scripts run with stand-ins for the PostgreSQL clients that record their argv and whether PGPASSWORD reached
// them: what `ps` would show during a dump, a restore and the identity checks.
describe("no password on any command line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-argv-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, "argv.log");
  const record = (name: string, body: string) =>
    fs.writeFileSync(
      path.join(dir, name),
      `#!/bin/bash\nprintf '%s argv=%s pgpassword=%s\\n' ${name} "$*" "\${PGPASSWORD:-}" >> "${log}"\n${body}\n`,
      { mode: 0o755 },
    );
  record("pg_dump", `for a in "$@"; do case "$a" in --file=*) printf PGDMP > "\${a#--file=}";; esac; done`);
  record("pg_restore", "exit 0");
  record("psql", 'case "$*" in *live*) echo "nova|1";; *) echo "clone|2";; esac');
  const LIVE = "postgres://nova:live-pw%2F1@db/live";
  const CLONE = "postgres://nova:clone-pw@db/clone";

  it("dump and rehearsal pass each password through PGPASSWORD only", () => {
    const env = {
      PATH: `${dir}:/usr/bin:/bin`,
      ...connectionEnv("LIVE", LIVE),
      ...connectionEnv("REHEARSAL", CLONE),
      MIGRATION_DATABASE_URL: CLONE,
    };
    const dumped = spawnSync("/bin/bash", ["-c", dumpScript(path.join(dir, "d", "live"))], {
      env,
      encoding: "utf8",
    });
    expect(dumped.status, dumped.stderr).toBe(0);
    const location = dumpLocationFrom(dumped.stdout) ?? "";
    const rehearsed = spawnSync("/bin/bash", ["-c", rehearsalScript(location, "true")], {
      env,
      encoding: "utf8",
    });
    expect(rehearsed.status, rehearsed.stderr).toBe(0);
    const calls = fs.readFileSync(log, "utf8").trim().split("\n");
    expect(calls.map((c) => c.split(" ")[0]).sort()).toEqual([
      "pg_dump",
      "pg_restore",
      "pg_restore",
      "psql",
      "psql",
    ]);
    for (const call of calls) {
      const argv = call.slice(0, call.indexOf(" pgpassword="));
      for (const secret of ["live-pw", "live-pw%2F1", "live-pw/1", "clone-pw"])
        expect(argv).not.toContain(secret);
    }
    const pw = (match: string) =>
      calls.filter((c) => c.includes(match)).map((c) => c.split(" pgpassword=")[1]);
    expect(pw("db/live")).toEqual(["live-pw/1", "live-pw/1"]);
    expect(pw("db/clone")).toEqual(["clone-pw", "clone-pw"]);
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
      [
        'if [ "$2" = ls ]; then exit 1; fi',
        'if [ "$2" = cp ]; then cat >/dev/null; fi',
        'if [ "$2" = cat ]; then printf PGDMP; head -c 1000000 /dev/zero; fi',
      ].join("\n"),
    );
    const result = spawnSync("/bin/bash", ["-c", dumpScript("gs://b/p/x")], {
      env: { PATH: `${dir}:/usr/bin:/bin`, LIVE_PG_URL: "postgres://u@db/nova", LIVE_PGPASSWORD: "pw" },
      encoding: "utf8",
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: result.status, calls, location: dumpLocationFrom(result.stdout) };
  };

  it("a failing pg_dump fails the step and removes the temporary object; nothing is moved to the final name", () => {
    const { status, calls } = run(1);
    expect(status).not.toBe(0);
    const cp = calls.find((c) => c.startsWith("gcloud storage cp")) ?? "";
    expect(cp).toMatch(/^gcloud storage cp --no-clobber - gs:\/\/b\/p\/x-\d{8}T\d{6}Z\.dump\.partial$/);
    expect(calls).toContain(`gcloud storage rm --quiet ${cp.split(" ").pop() ?? ""}`);
    expect(calls.some((c) => c.startsWith("gcloud storage mv"))).toBe(false);
  });

  it("a good dump is verified, then moved without clobbering, and reports where it is", () => {
    const { status, calls, location } = run(0);
    expect(status).toBe(0);
    expect(location).toMatch(/^gs:\/\/b\/p\/x-\d{8}T\d{6}Z\.dump$/);
    const steps = calls.filter((c) => c.startsWith("gcloud") || c.startsWith("pg_restore"));
    expect(steps[0]).toBe(`gcloud storage ls ${location}`);
    expect(steps[1]).toBe(`gcloud storage cp --no-clobber - ${location}.partial`);
    // The two sides of the verification pipe run at the same time: either may log first.
    expect(steps.slice(2, 4).sort()).toEqual([`gcloud storage cat ${location}.partial`, "pg_restore --list"]);
    expect(steps.slice(4, 6)).toEqual([
      `gcloud storage mv --no-clobber ${location}.partial ${location}`,
      `gcloud storage ls ${location}.partial`,
    ]);
  });
});

describe("the gs:// dump script with the sandbox's gcloud stand-in", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-gs-standin-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const standin = path.resolve(__dirname, "../../../tools/sandbox/bin");
  fs.writeFileSync(path.join(dir, "pg_dump"), "#!/bin/bash\nprintf PGDMP-new\n", { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "pg_restore"), "#!/bin/bash\ncat >/dev/null\n", { mode: 0o755 });
  const env = {
    PATH: `${dir}:${standin}:/usr/bin:/bin`,
    NOVA_SANDBOX_GCS: path.join(dir, "gcs"),
    LIVE_PG_URL: "postgres://u@db/nova",
  };

  it("refuses to replace an object that holds the dump's name, and leaves it as it was", () => {
    // The clock is pinned by a `date` stand-in, so the dump's name is known beforehand and already taken.
    fs.writeFileSync(path.join(dir, "date"), "#!/bin/bash\necho 20261203T150405Z\n", { mode: 0o755 });
    const existing = path.join(dir, "gcs", "b", "p", "x-20261203T150405Z.dump");
    fs.mkdirSync(path.dirname(existing), { recursive: true });
    fs.writeFileSync(existing, "PGDMP-earlier");
    const result = spawnSync("/bin/bash", ["-c", dumpScript("gs://b/p/x")], { env, encoding: "utf8" });
    expect(result.status).toBe(DUMP_EXISTS_EXIT_CODE);
    expect(result.stderr).toMatch(
      /refusing to replace the existing dump gs:\/\/b\/p\/x-20261203T150405Z\.dump/,
    );
    expect(fs.readFileSync(existing, "utf8")).toBe("PGDMP-earlier");
    expect(fs.readdirSync(path.dirname(existing))).toEqual(["x-20261203T150405Z.dump"]);
  });

  it("gcloud storage mv --no-clobber (the stand-in, like gcloud) skips an existing destination without failing", () => {
    const at = (o: string) => path.join(dir, "gcs", "c", o);
    fs.mkdirSync(at(""), { recursive: true });
    fs.writeFileSync(at("a"), "new");
    fs.writeFileSync(at("b"), "old");
    const mv = spawnSync(
      path.join(standin, "gcloud"),
      ["storage", "mv", "--no-clobber", "gs://c/a", "gs://c/b"],
      {
        env,
        encoding: "utf8",
      },
    );
    expect(mv.status).toBe(0);
    expect(fs.readFileSync(at("b"), "utf8")).toBe("old");
    expect(fs.existsSync(at("a"))).toBe(true);
  });
});

describe("the local dump script, run with stand-in tools", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-local-dump-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = (body: string) => `#!/bin/bash\n${body}\n`;
  const tools = (pgDumpExit: number, listExit: number, date?: string) => {
    const bin = fs.mkdtempSync(path.join(dir, "bin-"));
    // pg_dump writes to --file=<path> and then exits as told.
    fs.writeFileSync(
      path.join(bin, "pg_dump"),
      script(
        `for a in "$@"; do case "$a" in --file=*) printf PGDMP > "\${a#--file=}";; esac; done; exit ${pgDumpExit}`,
      ),
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(bin, "pg_restore"), script(`exit ${listExit}`), { mode: 0o755 });
    if (date !== undefined) fs.writeFileSync(path.join(bin, "date"), script(`echo ${date}`), { mode: 0o755 });
    return bin;
  };
  const dump = (bin: string, prefix: string) =>
    spawnSync("/bin/bash", ["-c", dumpScript(prefix)], {
      env: { PATH: `${bin}:/usr/bin:/bin`, LIVE_PG_URL: "postgres://u@db/nova" },
      encoding: "utf8",
    });

  it.each([
    ["pg_dump fails after writing part of the dump", 1, 0, false],
    ["pg_dump succeeds but the archive does not list", 0, 1, false],
    ["pg_dump succeeds and the archive lists", 0, 0, true],
  ])("%s", (name, pgDumpExit, listExit, kept) => {
    const where = path.join(dir, kebab(name));
    const result = dump(tools(pgDumpExit, listExit), path.join(where, "x"));
    expect(result.status === 0).toBe(kept);
    const files = fs.existsSync(where) ? fs.readdirSync(where) : [];
    expect(files).toHaveLength(kept ? 1 : 0);
    if (kept) expect(path.join(where, files[0] ?? "")).toBe(dumpLocationFrom(result.stdout));
  });

  it("two dumps of the same release get two names", () => {
    const where = path.join(dir, "twice");
    const bin = tools(0, 0);
    const first = dumpLocationFrom(dump(bin, path.join(where, "x")).stdout);
    spawnSync("sleep", ["1.1"]);
    const second = dumpLocationFrom(dump(bin, path.join(where, "x")).stdout);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(first).not.toBe(second);
    expect(fs.readdirSync(where).sort()).toEqual(
      [path.basename(first ?? ""), path.basename(second ?? "")].sort(),
    );
  });

  it("never replaces an existing file of the same name", () => {
    const where = path.join(dir, "taken");
    const existing = path.join(where, "x-20261203T150405Z.dump");
    fs.mkdirSync(where, { recursive: true });
    fs.writeFileSync(existing, "earlier dump");
    const result = dump(tools(0, 0, "20261203T150405Z"), path.join(where, "x"));
    expect(result.status).toBe(DUMP_EXISTS_EXIT_CODE);
    expect(fs.readFileSync(existing, "utf8")).toBe("earlier dump");
    expect(fs.readdirSync(where)).toEqual(["x-20261203T150405Z.dump"]);
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
