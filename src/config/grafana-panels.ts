/**
 * `nova-rollout:grafanaPanels`: the dashboard panels the post-deploy verification reads through Grafana's query API
 * (`src/verify/grafana-panels.ts`). JSON, e.g.
 *
 *   {"url":"https://grafana.nova-rms.example","dashboardUid":"nova-release","windowSeconds":900,
 *    "variables":{"namespace":"nova-prod"},
 *    "panels":[{"title":"Traffic","condition":"> 0"},{"title":"Module toggles"},{"id":3,"name":"billing","condition":"== 0"}]}
 *
 * Every problem is reported at once, with its path (`[panels][1][condition]`). The Grafana token is not here: it is the
 * secret `nova-rollout:grafanaAuthorization`.
 */
import { z } from "zod";
import { defaultPanelName, type GrafanaPanelsConfig } from "../verify/grafana-panels";
import { parseCondition } from "../verify/metrics";
import { fromJsonText } from "./values";

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const VARIABLE_NAME_RE = /^[A-Za-z_]\w*$/;
const CONDITION_ERROR = 'expected a condition such as "> 0" or "< 0.01" (or a list of them)';

/** Default verification window: the last 15 minutes. */
export const DEFAULT_GRAFANA_WINDOW_SECONDS = 900;

const condition = z
  .string({ error: CONDITION_ERROR })
  .refine((c) => parseCondition(c) !== undefined, { error: CONDITION_ERROR });

const panel = z
  .strictObject(
    {
      name: z
        .string({ error: "expected a name" })
        .max(40, { error: "a panel check name is at most 40 characters" })
        .regex(DNS_LABEL_RE, { error: "expected a DNS-1123 label (lowercase letters, digits and '-')" })
        .optional(),
      id: z.number({ error: "expected the panel's id (a number)" }).int().min(1).optional(),
      title: z.string({ error: "expected the panel's title" }).trim().min(1).optional(),
      condition: z.union([condition, z.array(condition)], { error: CONDITION_ERROR }).optional(),
    },
    {
      error: (issue) =>
        `${issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}; ` : ""}expected {"title"} or {"id"}, optionally "name" and "condition"`,
    },
  )
  .refine((p) => (p.id === undefined) !== (p.title === undefined), {
    error: 'give exactly one of "id" and "title"',
  })
  .transform((p) => ({
    name: p.name ?? defaultPanelName(p),
    ...(p.id !== undefined ? { id: p.id } : {}),
    ...(p.title !== undefined ? { title: p.title } : {}),
    conditions:
      p.condition === undefined ? [] : typeof p.condition === "string" ? [p.condition] : p.condition,
  }));

/** The schema of `nova-rollout:grafanaPanels` (JSON text or a structured value). */
export const grafanaPanelsSchema = z.preprocess(
  fromJsonText,
  z
    .strictObject(
      {
        url: z
          .string({ error: "expected Grafana's http(s) base URL" })
          .refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), {
            error: "expected Grafana's http(s) base URL",
          }),
        dashboardUid: z
          .string({ error: "expected a dashboard UID" })
          .regex(/^[A-Za-z0-9_-]{1,40}$/, { error: "expected a dashboard UID (the /d/<uid>/ of its URL)" }),
        windowSeconds: z
          .number({ error: "expected a number of seconds" })
          .int()
          .min(60, { error: "the window is at least 60 seconds" })
          .max(86_400, { error: "the window is at most 86400 seconds (a day)" })
          .default(DEFAULT_GRAFANA_WINDOW_SECONDS),
        variables: z
          .record(z.string(), z.string({ error: "expected text values" }), {
            error: 'expected a map of dashboard variable to value, e.g. {"namespace":"nova-prod"}',
          })
          .default({}),
        panels: z
          .array(panel, { error: 'expected a list of panels, e.g. [{"title":"Traffic","condition":"> 0"}]' })
          .min(1, { error: "list at least one panel" }),
      },
      {
        error: (issue) =>
          `${issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}; ` : ""}expected {"url","dashboardUid","panels":[…]} and optionally "windowSeconds" and "variables", e.g. {"url":"https://grafana.example","dashboardUid":"nova-release","panels":[{"title":"Traffic","condition":"> 0"}]}`,
      },
    )
    .superRefine((c, ctx) => {
      const bad = Object.keys(c.variables).filter((n) => !VARIABLE_NAME_RE.test(n) || n.startsWith("__"));
      if (bad.length > 0)
        ctx.addIssue({
          code: "custom",
          path: ["variables"],
          message: `not a dashboard variable name: ${bad.join(", ")} (Grafana's own $__ variables are left to it)`,
        });
      // A panel with problems of its own has no name yet (its transform did not run).
      const names = c.panels.map((p) => p.name as string | undefined).filter((n) => n !== undefined);
      for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
        ctx.addIssue({
          code: "custom",
          path: ["panels"],
          message: `two panels are named "${dup}"; give one a "name" of its own`,
        });
      }
      c.panels.forEach((p, i) => {
        if (typeof p.name === "string" && !DNS_LABEL_RE.test(p.name))
          ctx.addIssue({
            code: "custom",
            path: ["panels", i, "name"],
            message: `the title makes no check name ("${p.name}"); give the panel a "name" (a DNS-1123 label)`,
          });
      });
    }),
) as z.ZodType<GrafanaPanelsConfig, unknown>;
