"""Catalog 10.2: blame in a postmortem's root cause, and whose action items nobody owns or tracks.

What counts as blame (conservative on purpose; a blameless root cause names systems, and an
anonymous role — "an engineer ran the migration by hand" — is how blameless postmortems are written):
1. a blame phrase: human/operator/engineer/developer error, negligence, carelessness, incompetence,
   recklessness, "X's fault", "at fault", "to blame", "blamed", "screwed/messed up", "should have
   known", "didn't bother" — unless a negation stands just before it ("not human error", "rather
   than blaming") or the sentence says "blameless";
2. a person named in the root cause: an @mention, or a name the postmortem itself gives a person
   (Authors, Owner, Incident commander, On-call, Responders... lines, action-item owners);
3. a capitalised name as the one who acted, at the start of a sentence or clause or after
   because/when/after/since/as: "John deployed ...", "because Sarah forgot to ...", or its
   possessive "John's change"; the verb must be something people do (deployed, pushed, merged,
   ran, forgot, skipped, approved, ...), and the word must not be a determiner, pronoun, weekday,
   month, role or one of the tools and vendors in NOT_NAMES, nor appear in lower case in the root
   cause or at all in the title or a section title (then it is a thing: "Billing deployed ..."
   beside "the billing service").
Code spans never count (the parser replaces them).
"""
from __future__ import annotations

import re

BLAME = re.compile(r"(?i)\b(human error|operator error|operator mistake|engineer(ing)? error|developer error|"
                   r"pilot error|negligen(t|ce)|careless(ly|ness)?|incompeten(t|ce)|reckless(ly|ness)?|"
                   r"(?<=')s fault|fault of|at fault|to blame|blamed|screwed up|messed up|should have known|"
                   r"did(n't| not) bother)\b")
NEGATION = re.compile(r"(?i)\b(not|no|never|rather than|instead of|isn't|wasn't|aren't|weren't|nor|without|avoid|"
                      r"avoiding|neither)\b[^.;:]{0,25}$")
MENTION = re.compile(r"(?<![\w.@/])@([A-Za-z0-9][\w.-]*[A-Za-z0-9_]|[A-Za-z0-9])")
# things people do; verbs a system also does ("restarted", "failed to", "ran out") are left out
VERBS = (r"deployed|pushed|force-pushed|merged|ran(?! out)|executed|applied|committed|approved|skipped|misconfigured|"
         r"typed|edited|forgot|neglected|overlooked|ignored|bypassed|overrode|decided|chose|missed|"
         r"was supposed to")
ACTOR = re.compile(rf"(?:^|[.!?;:]\s+|\n|\b(?:because|when|after|since|as|then|and|but|so|where|until)\s+)"
                   rf"(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)(?P<poss>'s\s+(?:change|deploy(?:ment)?|commit|"
                   rf"pr|pull request|push|merge|script|config(?:uration)?|mistake|error|code|migration))?"
                   rf"(?(poss)|\s+(?:accidentally\s+|mistakenly\s+|carelessly\s+|manually\s+|just\s+|also\s+)?"
                   rf"(?:{VERBS})\b)")
NOT_NAMES = set("""
The A An This That These Those It Its We Our Us They Their Them He She His Her I My You Your Someone Somebody Nobody
No None One Each Every All Both Either Neither Any Some Most Many Several Then When After Because Since Also However
Finally Initially Later Meanwhile Unfortunately Instead There Here What Which Who Why How While During Before Once If
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August September
October November December Terraform Kubernetes Helm Argo ArgoCD Flux Jenkins GitHub Github GitLab Gitlab Renovate
Dependabot Ansible Puppet Chef Spinnaker Nginx Postgres PostgreSQL Redis Kafka Prometheus Grafana Alertmanager Docker
Istio Envoy Linkerd Karpenter Kubelet Autoscaler Operator Controller Deployment Pipeline Script Bot Release Service
Team Engineering Support Security Platform Ops Database Customer Customers User Users Client Clients Vendor Cloudflare
Fastly Akamai Stripe Okta Datadog PagerDuty Slack Google Amazon Microsoft Apple Linux Windows Java Python Node Ruby
Rust Automation Cron Nightly Production Staging Traffic Monitoring Alerting Deploy Rollout Rollback Change Config
Configuration Migration Build Cluster Node Pod Pods Health Load Cache Queue Network Storage Disk Memory Version Code
Ingress Vault Consul Elasticsearch Loki Fluentd Mongo MongoDB Cassandra Zookeeper Etcd CoreDNS Lambda Celery Sidekiq
Airflow Spark Varnish Traefik Apache Tomcat Spring Django Rails Express Gradle Maven Yarn Poetry Heroku Sentry Splunk
Kibana Jaeger Nomad Pulumi Crossplane Velero Git Bitbucket Travis Buildkite Drone Tekton Harbor Quay Artifactory Nexus
Snyk Trivy Job Jobs Worker Workers Scheduler Gateway Proxy Balancer Firewall Router Backup Restore Replica Primary
Leader Master Failover Upgrade Patch Hotfix Feature Flag Flags Test Tests Alert Alerts Dashboard Query Index Table
Schema Certificate Token Key Secret Policy Rule Rules Region Zone App Application System Systems Infrastructure Infra
Tool Tooling Process Review Reviewer Engineer Engineers Developer Developers Admin Administrator Oncall Responder
Manager Lead Intern Contractor Everyone Nothing Something
""".split())


def negated(text: str, start: int) -> bool:
    sentence_start = max(text.rfind(".", 0, start), text.rfind("\n", 0, start), 0)
    before = text[sentence_start:start]
    sentence_end = min((i for i in (text.find(".", start), len(text)) if i >= 0))
    return bool(NEGATION.search(before)) or "blameless" in text[sentence_start:sentence_end].lower()


def blame(text: str, people: list, context: str = ""):
    """(offset, words, why) of the first blame in a root-cause text, else None. `context` is the
    postmortem's title and section titles (a name there is the system's, not a person's)."""
    for m in BLAME.finditer(text):
        if not negated(text, m.start()):
            return m.start(), m.group(0), f"blames people ('{m.group(0)}')"
    m = MENTION.search(text)
    if m:
        return m.start(), m.group(0), f"names {m.group(0)}"
    for name in sorted(people, key=len, reverse=True):
        pm = re.search(rf"(?<![\w@]){re.escape(name)}(?![\w])", text)
        if pm:
            return pm.start(), name, f"names {name}, whom the postmortem lists as a person"
    lower = f"{context}\n{text}"
    for m in ACTOR.finditer(text):
        name = m.group("name")
        words = name.split()
        if any(w in NOT_NAMES for w in words) or any(  # a thing: written in lower case somewhere, or in the title
                re.search(rf"(?<![A-Za-z]){w.lower()}(?![A-Za-z])", lower) or re.search(rf"\b{w}\b", context)
                for w in words):
            continue
        return m.start("name"), name, f"names {name} as the one who acted ('{m.group(0).strip(' .;:' + chr(10))}')"
    return None


def quote(text: str, start: int, width: int = 90) -> str:
    """The sentence around an offset, on one line, shortened."""
    s = max(text.rfind(". ", 0, start) + 2 if text.rfind(". ", 0, start) >= 0 else 0, 0)
    e = text.find(". ", start)
    sentence = " ".join(text[s:e + 1 if e >= 0 else len(text)].split())
    return sentence if len(sentence) <= width else sentence[: width - 1] + "…"
