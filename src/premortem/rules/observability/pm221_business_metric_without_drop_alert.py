"""PM221: a business metric no alert watches for a drop or an absence (2.1)."""
from ...parse.prometheus import rules_of
from ..registry import Hit, rule
from ._promql import ERROR_WORDS, scan_facts, through_records, tokens, watches_drop

BUSINESS_WORDS = ["order", "orders", "invoice", "invoices", "payment", "payments", "checkout", "checkouts",
                  "signup", "signups", "registration", "registrations", "transaction", "transactions", "booking",
                  "bookings", "shipment", "shipments", "purchase", "purchases", "subscription", "subscriptions",
                  "sale", "sales", "revenue", "deliveries", "delivered", "settlements", "payouts"]


# series of infrastructure software: `prometheus_..._out_of_order_total` is no order book
INFRA_PREFIXES = ("prometheus_", "alertmanager_", "kube_", "kubelet_", "node_", "container_", "process_", "go_",
                  "apiserver_", "etcd_", "coredns_", "scheduler_", "workqueue_", "rest_client_", "thanos_", "cortex_",
                  "loki_", "grafana_", "nginx_", "envoy_", "istio_", "haproxy_", "traefik_", "pg_", "mysql_", "redis_",
                  "mongodb_", "kafka_", "rabbitmq_", "jvm_", "argocd_", "flux_", "cert_manager_")


def is_business(metric: str, words: set) -> bool:
    w = tokens(metric)
    return (bool(w & words) and not w & ERROR_WORDS and not metric.startswith(INFRA_PREFIXES)
            and "out_of_order" not in metric)


def business_metrics(facts, words: set) -> dict:
    """Raw business series named in the scan's rules -> (file, line) of the first rule naming them."""
    first: dict = {}
    for _, f in sorted(facts["rules"], key=lambda x: (x[1].at.file, x[1].at.line)):
        for s in f.summary.selectors:
            for raw in through_records(s, facts["records"]):
                if raw.metric and is_business(raw.metric, words) and raw.metric not in facts["records"]:
                    first.setdefault(raw.metric, (f.at.file, f.at.line))
    return first


def dropped_watch(facts) -> set:
    """Raw series some alert compares from below or checks for absence (through recording rules)."""
    out = set()
    for _, f in facts["alerts"]:
        for s in f.summary.selectors:
            if watches_drop(s):
                out |= {raw.metric for raw in through_records(s, facts["records"])}
    return out


@rule(id="PM221", name="business-metric-without-drop-alert", severity="high",
      severity_reason="A service that stops doing its job while its pods stay up fails silently for days.",
      incidents=["2.1"], title="Business metric has no alert on a drop or absence",
      formats=("kubernetes", "prometheus"), kinds=["PrometheusRule", "VMRule", "PrometheusRuleFile"],
      production_only=False, options={"words": BUSINESS_WORDS},
      fix="Alert when the business output drops or stops: `rate(invoices_generated_total[10m]) < 1` (for the hours "
          "it should not), or `absent(invoices_generated_total)` and a comparison with last week "
          "(`< 0.5 * ... offset 1w`).")
def check(resource, ctx):
    """## What it checks
    Business counters that the scan's recording or alerting rules read (series named with a
    word from the option `words`: orders, invoices, payments, checkouts, signups, bookings,
    transactions...; error and failure counters are not output, nor series of infrastructure
    software such as `prometheus_*`, `kube_*`, `node_*`, `pg_*`) must be watched by an alert for
    a drop or an absence: the series (directly or through a recording rule built on it) compared
    from below (`< x`, `<= x`, `== 0`, `< 0.5 * ... offset 1w`) or checked with `absent()` /
    `absent_over_time()`. Alerts on a spike (`> x`) do not count. Reported once per series, at
    the expression of the first rule that reads it.

    ## Why it breaks production
    In catalog 2.1 an invoicing microservice failed on a bad third-party response while its pods
    stayed up and its health checks passed: no invoices were generated for five days until a
    customer complained. An alert on `rate(invoices_generated_total[5m]) < 1` would have fired
    in minutes.

    ## Bad
    ```yaml
    groups:
      - name: invoices
        rules:
          - record: job:invoices_generated:rate5m
            expr: sum by (job) (rate(invoices_generated_total[5m]))
          - alert: InvoiceGenerationSpike
            expr: job:invoices_generated:rate5m > 100
            for: 10m
            labels: {severity: warning}
    ```

    ## Good
    ```yaml
    groups:
      - name: invoices
        rules:
          - record: job:invoices_generated:rate5m
            expr: sum by (job) (rate(invoices_generated_total[5m]))
          - alert: InvoiceGenerationDrop
            expr: job:invoices_generated:rate5m < 1 or absent(invoices_generated_total)
            for: 10m
            labels: {severity: critical}
    ```

    ## Fix
    For every business output (orders placed, invoices generated, payments settled) alert on a
    rate below what the business expects at that hour, and on the series disappearing. Compare
    with the same hour last week (`offset 1w`) when traffic has a daily shape.
    """
    facts = scan_facts(ctx.project)
    words = {str(w).lower() for w in ctx.options.get("words") or BUSINESS_WORDS}
    first = ctx.project.memo(f"pm221.{sorted(words)}", lambda p: business_metrics(facts, words))
    if not first:
        return
    watched = ctx.project.memo("pm221.watched", lambda p: dropped_watch(facts))
    records, seen = facts["records"], set()
    for r in rules_of(resource):
        src = resource.locate(r.at(r.kind))
        for s in r.summary.selectors:
            for raw in through_records(s, records):
                if first.get(raw.metric) == (src.file, src.line) and raw.metric not in watched | seen:
                    seen.add(raw.metric)
                    yield Hit(path=r.at("expr"), identity=raw.metric,
                              message=f"business metric '{raw.metric}' ({r.kind} '{r.name}' reads it) has no alert on "
                                      f"a drop or absence: when the service stops producing it while its pods stay "
                                      f"up, nobody is told (catalog 2.1: five days without invoices)")
