"""PM633 (9.2): a managed Kubernetes API server (EKS, GKE, AKS) is public and open to every address."""
import re

from ..registry import Hit, rule
from . import _tfcloud as tc

EKS_MODULES = ("terraform-aws-modules/eks/aws", "terraform-aws-modules/terraform-aws-eks")


@rule(id="PM633", name="eks-public-endpoint-unrestricted", severity="high",
      severity_reason="The cluster API is then one leaked kubeconfig, CI token or API-server CVE away from "
                      "anyone on the internet; an allow-list makes a stolen credential useless from elsewhere.",
      incidents=["9.2", "9.1"], title="Kubernetes API endpoint public without a CIDR allow-list",
      formats=("terraform",),
      kinds=("aws_eks_cluster", "module", "google_container_cluster", "azurerm_kubernetes_cluster"),
      fix="Turn the public endpoint off (private endpoint + VPN/bastion), or keep it and list the CIDRs that may "
          "reach it: `public_access_cidrs` (EKS), `master_authorized_networks_config` (GKE), "
          "`api_server_access_profile.authorized_ip_ranges` (AKS).")
def check(resource, ctx):
    """## What it checks
    - `aws_eks_cluster`: `vpc_config.endpoint_public_access` true **or unset (AWS's default is
      true)** with `public_access_cidrs` unset (default `0.0.0.0/0`) or containing 0.0.0.0/0.
    - the terraform-aws-modules `eks` module: `cluster_endpoint_public_access = true`
      (`endpoint_public_access` in v21; unset counts only for versions before 19, whose default
      was true) without `cluster_endpoint_public_access_cidrs` / `endpoint_public_access_cidrs`,
      or with 0.0.0.0/0 in them.
    - `google_container_cluster` with a public endpoint (no `private_cluster_config` with
      `enable_private_endpoint = true`, public IP endpoint not disabled in
      `control_plane_endpoints_config`) and no `master_authorized_networks_config`, or one that
      authorizes 0.0.0.0/0.
    - `azurerm_kubernetes_cluster` not private (`private_cluster_enabled` unset/false) without
      `api_server_access_profile.authorized_ip_ranges`, or with 0.0.0.0/0 in them.
    Unknown values (a variable without a value) never fire.

    ## Why it breaks production
    In incident 9.2 an internal dashboard was exposed without auth or an IP allow-list and
    attackers used it to run a reverse shell; a cluster API reachable from everywhere is that
    dashboard with cluster-admin behind it (9.1). With an allow-list, a leaked kubeconfig or CI
    token is useless outside the office and the CI runners.

    ## Bad
    ```hcl main.tf
    resource "aws_eks_cluster" "main" {
      name     = "payments"
      role_arn = "arn:aws:iam::111122223333:role/eks-cluster"
      vpc_config {
        subnet_ids = ["subnet-0a1b", "subnet-0c2d"]
      }
    }
    ```

    ## Good
    ```hcl main.tf
    resource "aws_eks_cluster" "main" {
      name     = "payments"
      role_arn = "arn:aws:iam::111122223333:role/eks-cluster"
      vpc_config {
        subnet_ids              = ["subnet-0a1b", "subnet-0c2d"]
        endpoint_private_access = true
        endpoint_public_access  = true
        public_access_cidrs     = ["203.0.113.0/24"]
      }
    }
    ```

    ## Fix
    Prefer a private endpoint reached over a VPN or bastion; if the API must stay public, list
    the office and CI runner egress CIDRs and nothing else.
    """
    v = resource.data.get("values") or {}
    if resource.kind == "aws_eks_cluster":
        for i, vc in tc.blocks(v, "vpc_config"):
            yield from _judge(resource, ("values", "vpc_config", i), vc, "endpoint_public_access", True,
                              "public_access_cidrs")
    elif resource.kind == "module" and any(m in str(resource.data.get("source") or "") for m in EKS_MODULES) \
            and "//modules/" not in str(resource.data.get("source")):
        m = re.search(r"\d+", str(v.get("version") or ""))
        old = bool(m) and int(m.group(0)) < 19  # v18 and before: the public endpoint was on by default
        for flag in ("cluster_endpoint_public_access", "endpoint_public_access"):
            if flag in v or flag == "cluster_endpoint_public_access" and "endpoint_public_access" not in v:
                yield from _judge(resource, ("values",), v, flag, old, flag + "_cidrs")
                break
    elif resource.kind == "google_container_cluster":
        yield from _gke(resource, v)
    elif resource.kind == "azurerm_kubernetes_cluster":
        yield from _aks(resource, v)


def _judge(resource, base, vals, flag, default, cidr_attr):
    public = vals.get(flag, default)
    if public is not True:
        return  # private, or unknown before apply
    if cidr_attr in vals:
        yield from _world(resource, base + (cidr_attr,), vals[cidr_attr], cidr_attr)
        return
    how = f"{flag} = true" if flag in vals else f"{flag} unset, which defaults to true"
    yield Hit(path=base + (flag,) if flag in vals else base, key=flag not in vals,
              message=f"{resource.name} has a public API endpoint ({how}) and no {cidr_attr}, so it defaults to "
                      f"0.0.0.0/0: {_CONSEQUENCE}")


def _world(resource, path, cidrs, attr, empty_is_open=True):
    world = [c for c in tc.strs(cidrs) if tc.is_world(c)]
    if world:  # else restricted, or unknown
        yield Hit(path=path, message=f"{resource.name} has a public API endpoint and {attr} includes {world[0]}: "
                                     f"{_CONSEQUENCE}")
    elif cidrs == [] and empty_is_open:
        yield Hit(path=path, message=f"{resource.name} has a public API endpoint and an empty {attr}, which "
                                     f"restricts nothing: {_CONSEQUENCE}")


_CONSEQUENCE = ("anyone on the internet can reach the Kubernetes API, and a leaked kubeconfig or CI token works "
                "from anywhere")


def _gke(resource, v):
    pcc = tc.block(v, "private_cluster_config") or {}
    if pcc.get("enable_private_endpoint", False) is not False:
        return  # private endpoint only, or unknown
    ipe = tc.block(tc.block(v, "control_plane_endpoints_config") or {}, "ip_endpoints_config") or {}
    if ipe.get("enabled", True) is not True:
        return  # public IP endpoint disabled, or unknown
    for i, man in tc.blocks(v, "master_authorized_networks_config"):
        for j, cb in tc.blocks(man, "cidr_blocks"):
            path = ("values", "master_authorized_networks_config", i, "cidr_blocks", j, "cidr_block")
            yield from _world(resource, path,
                              cb.get("cidr_block"), "master_authorized_networks_config", empty_is_open=False)
        return
    yield Hit(path=(), message=f"{resource.name} has a public endpoint and no master_authorized_networks_config "
                               f"(without it, every address may reach the control plane): {_CONSEQUENCE}")


def _aks(resource, v):
    if v.get("private_cluster_enabled", False) is not False:
        return  # private, or unknown
    prof = tc.block(v, "api_server_access_profile")
    if prof is not None and "authorized_ip_ranges" in prof:
        yield from _world(resource, ("values", "api_server_access_profile", 0, "authorized_ip_ranges"),
                          prof["authorized_ip_ranges"], "authorized_ip_ranges")
    elif "api_server_authorized_ip_ranges" in v:  # azurerm < 4
        yield from _world(resource, ("values", "api_server_authorized_ip_ranges"), v["api_server_authorized_ip_ranges"],
                          "api_server_authorized_ip_ranges")
    else:
        yield Hit(path=(), message=f"{resource.name} is not a private cluster and sets no "
                                   f"api_server_access_profile.authorized_ip_ranges: {_CONSEQUENCE}")
