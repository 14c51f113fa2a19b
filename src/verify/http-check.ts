/** The HTTP checks' judgement: what an answer of a health or metrics endpoint must be to pass. */
import type { Attempt } from "./check-result";

/** A Prometheus text exposition has at least one sample line `name{labels} value`. */
export function looksLikePrometheus(body: string): boolean {
  return body
    .split("\n")
    .some((line) =>
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?\s+[-+0-9.eEInfNa]+(\s+\d+)?\s*$/.test(line.trim()),
    );
}

/** What an endpoint answered. */
export interface HttpAnswer {
  readonly status: number;
  /** The `Location` header, if any. */
  readonly location?: string;
  readonly body: string;
}

/**
 * Judges an answer of `url`: 2xx required, and with `prometheus` a Prometheus body. A 3xx fails, naming where it
 * pointed (a login page, a moved route, a proxy's default page): the endpoint must answer itself. Returns the detail
 * of a pass; throws the reason of a failure. Pure.
 */
export function judgeHttpAnswer(url: string, answer: HttpAnswer, prometheus: boolean): string {
  if (answer.status >= 300 && answer.status < 400) {
    throw new Error(
      `${url} answered ${answer.status} redirecting to ${answer.location ?? "(no Location)"}: the endpoint must answer itself; redirects are not followed`,
    );
  }
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${url} answered ${answer.status}`);
  if (prometheus && !looksLikePrometheus(answer.body))
    throw new Error(`${url} did not return Prometheus metrics`);
  return `${url} answered ${answer.status}`;
}

/** GET `url` (redirects not followed), judged by {@link judgeHttpAnswer}. */
export function httpAttempt(url: string, prometheus: boolean): Attempt {
  return async (signal) => {
    const res = await fetch(url, { signal, redirect: "manual" });
    const body = await res.text();
    const location = res.headers.get("location");
    return judgeHttpAnswer(
      url,
      { status: res.status, body, ...(location !== null ? { location } : {}) },
      prometheus,
    );
  };
}
