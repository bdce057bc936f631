/**
 * `GET /stats/summary` and `GET /metrics/resource`: relay the provider's usage data as the
 * kubelet's JSON summary and Prometheus text (written by prom-client, like the agent's own
 * metrics; see `lib/metrics/families.ts` for why samples carry no timestamps).
 *
 * @module
 */

import { hasMetricsResource, hasStatsSummary, type Provider } from "../provider.ts";
import { formatMetricFamilies, prometheusTextContentType } from "../metrics/mod.ts";
import { HttpError } from "./http_errors.ts";
import { resourceMetricsFromSummary } from "./resource_metrics.ts";

/** Answers `/stats/summary` with the provider's summary (501 without `StatsSummary`). */
export async function serveStatsSummary(
  provider: Provider,
  signal: AbortSignal,
): Promise<Response> {
  if (!hasStatsSummary(provider)) {
    throw new HttpError(
      501,
      `provider "${provider.name}" does not implement StatsSummary: /stats/summary is not available`,
    );
  }
  const summary = await provider.getStatsSummary(signal);
  return Response.json(summary);
}

/**
 * Answers `/metrics/resource` with the provider's metric families or, like the kubelet,
 * with families derived from its summary; 501 when the provider has neither capability.
 */
export async function serveMetricsResource(
  provider: Provider,
  signal: AbortSignal,
): Promise<Response> {
  let families;
  if (hasMetricsResource(provider)) {
    families = await provider.getMetricsResource(signal);
  } else if (hasStatsSummary(provider)) {
    families = resourceMetricsFromSummary(await provider.getStatsSummary(signal));
  } else {
    throw new HttpError(
      501,
      `provider "${provider.name}" does not implement MetricsResource or StatsSummary: /metrics/resource is not available`,
    );
  }
  return new Response(await formatMetricFamilies(families), {
    status: 200,
    headers: { "content-type": prometheusTextContentType },
  });
}
