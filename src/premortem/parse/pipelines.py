"""CI/CD definitions into one shared model: "a job that deploys to an environment under conditions".

Every CI system's parser (github_actions, gitlab_ci, jenkinsfile) yields Resources of format
"pipeline", kind "PipelineJob", one per job/stage, whose `data` has this shape (rules read only it):

    {"system": "github" | "gitlab" | "jenkins" | "script" | "make",   # script/make: run by hand (scripts.py)
     "name": str,                      # job id / stage name
     "workflow": str,                  # workflow/pipeline name
     "pipeline": str,                  # file of the definition that runs the job (a GitLab job from an
                                       #   included file belongs to the including .gitlab-ci.yml)
     "triggers": [str],                # push, pull_request, schedule, workflow_dispatch, manual ...
     "branches": [str],                # branch filters that let the job run ([] = any)
     "conditions": [str],              # raw `if:` / `rules:` / `when {}` expressions, in source form
     "environment": str | None,        # GitHub environment / GitLab environment name / Jenkins target
     "gate": {"manual": bool,          # a human must act: GitLab `when: manual` (blocking), Jenkins `input`,
              "blocking": bool,        #   GitHub environment (protection lives in repo settings)
              "approval": str},        # evidence text for the gate ('' when none)
     "needs": [str],                   # jobs/stages that must succeed first
     "allow_failure": bool,            # continue-on-error / allow_failure: true
     "params": [{"name": str, "default": ...}],  # pipeline parameters / workflow_dispatch inputs
     "steps": [{"name": str, "run": str | None, "uses": str | None, "line": int,   # Jenkins plugin steps: uses = call
                "commands": [{"argv": [str], "env": {str: str}, "line": int, "text": str}],
                "continue_on_error": bool}],
    }

positions: ("steps", i) and ("steps", i, "commands", j) -> (line, column) so rules report at a
command; ("environment",), ("gate",), ("conditions", k) where known.
"""
from __future__ import annotations


def parse_pipeline(kind: str, text: str, rel: str, read=None) -> tuple[list, list]:
    if kind == "github":
        from .github_actions import parse_workflow
        return parse_workflow(text, rel)
    if kind == "gitlab":
        from .gitlab_ci import parse_gitlab_ci
        return parse_gitlab_ci(text, rel, read)
    if kind == "jenkins":
        from .jenkinsfile import parse_jenkinsfile
        return parse_jenkinsfile(text, rel)
    if kind == "script":
        from .scripts import parse_shell_script
        return parse_shell_script(text, rel)
    if kind == "make":
        from .scripts import parse_makefile
        return parse_makefile(text, rel)
    return [], []
