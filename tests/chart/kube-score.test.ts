/**
 * Chart layer: kube-score (github.com/zegl/kube-score, built by `npm run setup`) over the production and staging
 * renders as the program produces them. Every finding must be waived, with its reason, in the one committed file
 * ./kube-score-waivers.yaml, and every waiver must still match a finding. A missing kube-score FAILS the suite
 * (see findKubeScore in ./helm.ts); it never skips.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PRODUCTION, STAGING } from "./fixtures";
import { findKubeScore, helmTemplate, runKubeScore } from "./helm";

const WAIVERS_FILE = join(__dirname, "kube-score-waivers.yaml");

interface Waiver {
  readonly check: string;
  readonly renders: readonly string[];
  readonly objects: readonly string[];
  readonly reason: string;
}

/** One kube-score result object (`--output-format json`), reduced to what the test reads. */
interface ScoredObject {
  readonly type_meta: { readonly kind: string };
  readonly object_meta: { readonly name: string };
  readonly checks: readonly {
    readonly check: { readonly id: string };
    readonly grade: number;
    readonly skipped: boolean;
    readonly comments: readonly { readonly summary: string }[] | null;
  }[];
}

/** kube-score's grade for a passed check. */
const GRADE_ALL_OK = 10;

const RENDERS = [
  // Production also turns on kube-score's optional "memory request = limit" check (issue 15, capacity).
  {
    name: "production",
    options: PRODUCTION,
    extra: ["--enable-optional-test", "container-memory-requests-equal-limits"],
  },
  { name: "staging", options: STAGING, extra: [] },
] as const;

function loadWaivers(): Waiver[] {
  const doc = parse(readFileSync(WAIVERS_FILE, "utf8")) as { waivers?: Waiver[] };
  return doc.waivers ?? [];
}

/** `<render> <Kind>/<name> <check>` for every waived finding. */
function waivedKeys(waivers: readonly Waiver[]): string[] {
  return waivers.flatMap((w) => w.renders.flatMap((r) => w.objects.map((o) => `${r} ${o} ${w.check}`)));
}

/** Scores one render and returns its findings as `<render> <Kind>/<name> <check>: <summaries>`. */
function findings(render: (typeof RENDERS)[number]): Map<string, string> {
  const rendered = helmTemplate(render.options);
  expect(rendered.status, `${rendered.command}\n${rendered.stderr}`).toBe(0);
  const result = runKubeScore(["score", "--output-format", "json", ...render.extra, "-"], rendered.stdout);
  // kube-score exits 1 when it has critical findings; the JSON on stdout is what counts.
  expect(result.stdout.trim().startsWith("["), `${result.command}\n${result.stderr}`).toBe(true);
  const scored = JSON.parse(result.stdout) as ScoredObject[];
  expect(scored.length).toBeGreaterThan(10);
  const out = new Map<string, string>();
  for (const o of scored) {
    for (const c of o.checks) {
      if (c.skipped || c.grade >= GRADE_ALL_OK) continue;
      const key = `${render.name} ${o.type_meta.kind}/${o.object_meta.name} ${c.check.id}`;
      out.set(key, (c.comments ?? []).map((m) => m.summary).join("; "));
    }
  }
  return out;
}

describe("kube-score toolchain", () => {
  it("finds a kube-score v1.20 binary (run `npm run setup` when this fails)", () => {
    expect(findKubeScore()).toBeTruthy();
    const version = runKubeScore(["version"]);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/kube-score version: 1\.20\./);
  });
});

describe("kube-score waivers file", () => {
  it("gives every waiver a check, renders, objects and a real reason", () => {
    const waivers = loadWaivers();
    expect(waivers.length).toBeGreaterThan(0);
    for (const w of waivers) {
      expect(w.check, JSON.stringify(w)).toMatch(/^[a-z0-9-]+$/);
      expect(w.renders.length).toBeGreaterThan(0);
      for (const r of w.renders) expect(["production", "staging"]).toContain(r);
      for (const o of w.objects) expect(o).toMatch(/^[A-Za-z]+\/[a-z0-9-]+$/);
      expect(w.reason.length, `reason of ${w.check}`).toBeGreaterThan(80);
    }
  });
});

describe.each(RENDERS)("kube-score over the $name render", (render) => {
  it("has no finding that is not waived, and no waiver without a finding", () => {
    const found = findings(render);
    const waived = new Set(waivedKeys(loadWaivers()).filter((k) => k.startsWith(`${render.name} `)));
    const unwaived = [...found.entries()].filter(([k]) => !waived.has(k)).map(([k, why]) => `${k}: ${why}`);
    expect(unwaived, "findings not waived in tests/chart/kube-score-waivers.yaml").toEqual([]);
    const stale = [...waived].filter((k) => !found.has(k));
    expect(stale, "waivers that match no finding any more: remove them").toEqual([]);
  });
});
