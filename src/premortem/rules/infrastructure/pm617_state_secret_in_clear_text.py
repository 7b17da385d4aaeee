"""PM617: a secret in a Terraform state file, in clear text (each attribute or output, at its line)."""
from ..registry import Hit, rule
from . import _plan
from .pm616_state_file_in_repository import state_secrets


@rule(id="PM617", name="state-secret-in-clear-text", severity="critical",
      severity_reason="Whoever reads the state file has the credential itself, not a reference to it.",
      incidents=["6.3"], title="Secret stored in clear text in Terraform state",
      fix="Rotate the secret; have the service manage it (`manage_master_user_password`) or read it "
          "from a secret store at runtime, and keep state only in an encrypted, access-controlled backend.",
      formats=("tfstate",), kinds=("TerraformState", "StateResource"))
def check(resource, ctx):
    """## What it checks
    Each secret in a state file: resource attributes the provider marked sensitive
    (`sensitive_attributes`), attributes whose names say secret (`password`, `master_password`,
    `secret`, `token`, `private_key_pem`, ...) with a plausible credential as value, values that are
    credentials whatever their name (private keys, cloud access keys, tokens), and outputs that are
    `sensitive` or secret by name. Each is reported at its own line, redacted (first characters and
    a hash), so the finding tells what to rotate without repeating the leak.

    ## Why it breaks production
    In catalog 6.3 a password hard-coded for `aws_db_instance` went into `terraform.tfstate`, and a
    misconfigured bucket exposed the state and every credential in it. State keeps values in clear
    text even when the configuration marks them sensitive.

    ## Bad
    ```json terraform.tfstate
    {"version": 4, "terraform_version": "1.7.4", "serial": 3,
     "lineage": "3f1c2a7e-9b1d-4c55-8e2f-0a6b7c8d9e10",
     "outputs": {"db_password": {"value": "SuperSecret123!", "type": "string", "sensitive": true}},
     "resources": []}
    ```

    ## Good
    ```json terraform.tfstate
    {"version": 4, "terraform_version": "1.7.4", "serial": 3,
     "lineage": "3f1c2a7e-9b1d-4c55-8e2f-0a6b7c8d9e10",
     "outputs": {"db_password_arn": {"value": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                                     "type": "string"}},
     "resources": []}
    ```

    ## Fix
    Rotate the secret first. Then keep it out of state: let AWS manage the master password
    (`manage_master_user_password = true`), or write it into a secret store outside Terraform and
    pass only its ARN; state itself goes to an encrypted backend readable by the pipeline alone.
    """
    if resource.kind == "TerraformState":  # outputs; attributes are judged on each StateResource
        for path, label, value in state_secrets({"outputs": resource.data.get("outputs")}):
            yield Hit(path=path, secrets=_plan.forms(value), identity=label,
                      message=f"{label} is stored in the state in clear text ({value})")
        return
    data = resource.data
    if data.get("mode") == "data":
        return
    for path, value, why in _plan.secret_leaves(data.get("attributes"), data.get("sensitive")):
        attr = _plan.path_text(path)
        yield Hit(path=("attributes",) + path, secrets=_plan.forms(value), identity=attr,
                  message=f"{resource.name}: `{attr}` holds {why}, stored in the state in clear text ({value})")
