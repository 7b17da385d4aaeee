"""PM921: an internal dashboard published straight from its Service (LoadBalancer, NodePort,
externalIPs) with no source ranges and no internal load balancer."""
from ...model import Severity
from ..registry import Hit, rule
from . import _exposure as ex


@rule(id="PM921", name="dashboard-service-exposed", severity="high",
      severity_reason="The dashboard gets an address of its own with nothing in front of it; critical for Jenkins, "
                      "Argo CD, Argo Workflows and the Kubernetes Dashboard, which run code in the cluster.",
      incidents=["9.2"], title="Internal dashboard published by a LoadBalancer/NodePort Service",
      kinds=["Service"], production_only=False, options={"dashboards": []},
      fix="Make the Service `ClusterIP` and publish the dashboard through an Ingress with an auth layer, or keep the "
          "load balancer internal (`service.beta.kubernetes.io/aws-load-balancer-internal: \"true\"`, "
          "`networking.gke.io/load-balancer-type: Internal`, `azure-load-balancer-internal`) and set "
          "`loadBalancerSourceRanges` to your networks.")
def check(resource, ctx):
    """## What it checks
    A Service of type LoadBalancer, NodePort, or with a public `externalIPs` address, whose pods are an
    internal dashboard (Grafana, Prometheus, Alertmanager, Kibana, Jenkins, Argo CD, Argo Workflows, the
    Kubernetes Dashboard, pgAdmin and other database UIs, plus the `dashboards` option), recognised by
    the images of the pods it selects or by its own name. It is quiet when `loadBalancerSourceRanges`
    (or the `load-balancer-source-ranges` annotation) restricts it to networks narrower than
    `0.0.0.0/0`, when a cloud annotation makes the load balancer internal (AWS, GKE, Azure, OCI,
    OpenStack, IBM, Alibaba; an AWS Load Balancer Controller NLB without a scheme is internal), when
    every `externalIPs` address is private, and when an auth proxy (oauth2-proxy) runs in the pods.
    A NodePort is one severity level lower: node addresses are often, not always, private.

    ## Why it breaks production
    In catalog 9.2 an internal Jenkins reachable from the internet without auth or IP restrictions was
    found by a search-engine dork, and attackers ran a build job that deployed a reverse-shell container.
    A LoadBalancer Service publishes the dashboard just as openly, without even an Ingress to hold an
    auth annotation.

    ## Bad
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: kubernetes-dashboard, namespace: kubernetes-dashboard}
    spec:
      type: LoadBalancer
      selector: {k8s-app: kubernetes-dashboard}
      ports: [{port: 443, targetPort: 8443}]
    ```

    ## Good
    ```yaml
    apiVersion: v1
    kind: Service
    metadata:
      name: kubernetes-dashboard
      namespace: kubernetes-dashboard
      annotations:
        service.beta.kubernetes.io/aws-load-balancer-internal: "true"
    spec:
      type: LoadBalancer
      loadBalancerSourceRanges: [10.20.0.0/16]
      selector: {k8s-app: kubernetes-dashboard}
      ports: [{port: 443, targetPort: 8443}]
    ```

    ## Fix
    Keep dashboards on `ClusterIP` Services and publish them through an Ingress with an auth layer
    (oauth2-proxy), or through an internal load balancer limited by `loadBalancerSourceRanges`; use
    `kubectl port-forward` for occasional access.
    """
    exposure = ex.service_exposure(resource)
    if exposure is None or exposure.guards.found:
        return
    catalog = ex.dashboards(ctx.options.get("dashboards"))
    pods = ex.selected(ctx.project, resource.get(("spec", "selector")), resource.namespace)
    found = ex.backend_dashboard(ctx.project, resource.name, resource.namespace, catalog, workloads=pods)
    if found is None or found.guard:
        return
    d = found.dashboard
    reach = ("answers at that address" if exposure.path[1] == "externalIPs" else
             "gets an address of its own, reachable from the internet" if exposure.direct else
             "listens on a port of every node")
    message = (f"Service '{resource.name}' {exposure.how}: "
               f"{d.name} ({found.evidence}) {reach} with no auth layer in front, and {d.risk}")
    if exposure.guards.notes:
        message += ". Not a guard: " + "; ".join(exposure.guards.notes)
    level = Severity.CRITICAL if d.critical else Severity.HIGH
    if not exposure.direct:
        level = Severity(level - 1)
    yield Hit(path=exposure.path, message=message, severity=level,
              related=ex.related_workloads(found.workloads, f"serves {d.name}"))
