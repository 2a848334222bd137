// What `/metrics` reports, in Prometheus text format (prom-client): requests and their latency by
// route pattern, method and status; publishes; authentication failures by reason; index cache hits
// and misses; connections switched to HTTP/2; and Node's default process metrics.
//
// The request counters sit on the hot path, so they are plain numbers in a record made once per
// (route, method, status) and kept in nested Maps: a request costs three Map lookups, two additions
// and a bucket search. prom-client's own labelled children hash their label set on every `inc` and
// `observe`, so they are not used there; the records are turned into prom-client metric values only
// when someone scrapes. Label values are route patterns (`/index/*`), never raw URLs, and a known
// method or `OTHER`: the label sets stay bounded whatever clients send.

import { collectDefaultMetrics, Registry as PromRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Upper bounds of the latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export const AUTH_FAILURE_REASONS = ['missing', 'rejected', 'scope', 'limited'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
/** The route label of a request that matched no route. */
export const UNMATCHED_ROUTE = 'unmatched';

interface RequestRecord {
  readonly labels: { route: string; method: string; status: string };
  count: number;
  sumSeconds: number;
  /** Non-cumulative counts per bucket; the last one is +Inf. */
  readonly buckets: number[];
}

/** Where the counts come from that other services keep as plain numbers. */
export interface CountSources {
  indexCache(): { hits: number; misses: number };
  publishes(): number;
  /** Downloads refused by the supply-chain policy, by rule. */
  policyRefusals?(): ReadonlyMap<string, number>;
  /** Publishes refused by the licence rule. */
  licencePublishRefusals?(): number;
}

// Node's process metrics are per process, so they are collected once per process and shared by
// every registry's output (tests build many registries in one process).
let processMetrics: PromRegistry | undefined;
function processRegistry(): PromRegistry {
  if (!processMetrics) {
    processMetrics = new PromRegistry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

type Type = 'counter' | 'histogram';
function metric(name: string, help: string, type: Type, values: () => MetricValue<string>[]) {
  return {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async (): Promise<MetricObjectWithValues<MetricValue<string>>> =>
      ({ name, help, type, aggregator: 'sum', values: values() }) as never,
    reset() {},
  };
}

export class Metrics {
  private readonly byRoute = new Map<string, Map<string, Map<number, RequestRecord>>>();
  private readonly records: RequestRecord[] = [];
  private readonly authFailures = new Map<AuthFailureReason, number>(AUTH_FAILURE_REASONS.map((r) => [r, 0]));
  private http2Upgrades = 0;
  private readonly own = new PromRegistry();
  private readonly registry: PromRegistry;

  constructor(private readonly sources: CountSources) {
    const register = (m: ReturnType<typeof metric>) => this.own.registerMetric(m as never);
    register(
      metric('cratekeeper_http_requests_total', 'HTTP requests answered, by route pattern, method and status.', 'counter', () =>
        this.records.map((r) => ({ labels: r.labels, value: r.count })),
      ),
    );
    register(
      metric(
        'cratekeeper_http_request_duration_seconds',
        'Time to answer an HTTP request, by route pattern, method and status.',
        'histogram',
        () => this.histogramValues(),
      ),
    );
    register(
      metric('cratekeeper_publishes_total', 'Crate versions published through this process.', 'counter', () => [
        { labels: {}, value: this.sources.publishes() },
      ]),
    );
    register(
      metric(
        'cratekeeper_auth_failures_total',
        'Requests refused by the token check, by reason (missing, rejected, scope, limited).',
        'counter',
        () => [...this.authFailures].map(([reason, value]) => ({ labels: { reason }, value })),
      ),
    );
    register(
      metric(
        'cratekeeper_index_cache_requests_total',
        'Index-file lookups in the in-memory cache, by result (hit or miss).',
        'counter',
        () => {
          const { hits, misses } = this.sources.indexCache();
          return [
            { labels: { result: 'hit' }, value: hits },
            { labels: { result: 'miss' }, value: misses },
          ];
        },
      ),
    );
    register(
      metric(
        'cratekeeper_policy_refusals_total',
        'Downloads refused by the supply-chain policy, by rule (quarantine, hold, advisory, licence).',
        'counter',
        () => [...(this.sources.policyRefusals?.() ?? [])].map(([rule, value]) => ({ labels: { rule }, value })),
      ),
    );
    register(
      metric('cratekeeper_publish_refusals_total', 'Publishes refused by the supply-chain policy, by rule (licence).', 'counter', () => [
        { labels: { rule: 'licence' }, value: this.sources.licencePublishRefusals?.() ?? 0 },
      ]),
    );
    register(
      metric(
        'cratekeeper_http2_upgrades_total',
        "Plain-HTTP connections switched to HTTP/2 at the client's request (h2c, as cargo asks).",
        'counter',
        () => [{ labels: {}, value: this.http2Upgrades }],
      ),
    );
    this.registry = PromRegistry.merge([processRegistry(), this.own]);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts one answered request. `route` is the route pattern (undefined when none matched). */
  observeRequest(route: string | undefined, method: string, status: number, milliseconds: number): void {
    const routeKey = route ?? UNMATCHED_ROUTE;
    let byMethod = this.byRoute.get(routeKey);
    if (byMethod === undefined) this.byRoute.set(routeKey, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      const known = KNOWN_METHODS.has(method) ? method : 'OTHER';
      // Unknown methods share the OTHER records, so the map cannot grow with what clients send.
      byStatus = known === method ? new Map() : (byMethod.get('OTHER') ?? new Map());
      byMethod.set(known, byStatus);
    }
    let record = byStatus.get(status);
    if (record === undefined) {
      record = {
        labels: { route: routeKey, method: KNOWN_METHODS.has(method) ? method : 'OTHER', status: String(status) },
        count: 0,
        sumSeconds: 0,
        buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
      };
      byStatus.set(status, record);
      this.records.push(record);
    }
    const seconds = milliseconds / 1000;
    record.count++;
    record.sumSeconds += seconds;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    record.buckets[i]!++;
  }

  authFailure(reason: AuthFailureReason): void {
    this.authFailures.set(reason, this.authFailures.get(reason)! + 1);
  }

  http2Upgrade(): void {
    this.http2Upgrades++;
  }

  /** The Prometheus text exposition of everything above. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  private histogramValues(): MetricValue<string>[] {
    const name = 'cratekeeper_http_request_duration_seconds';
    const values: MetricValue<string>[] = [];
    for (const r of this.records) {
      let cumulative = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        cumulative += r.buckets[i]!;
        const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf';
        values.push({ metricName: `${name}_bucket`, labels: { ...r.labels, le }, value: cumulative } as MetricValue<string>);
      }
      values.push({ metricName: `${name}_sum`, labels: r.labels, value: r.sumSeconds } as MetricValue<string>);
      values.push({ metricName: `${name}_count`, labels: r.labels, value: r.count } as MetricValue<string>);
    }
    return values;
  }
}
