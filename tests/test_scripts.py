"""Shell scripts and Makefile recipes become PipelineJobs (systems "script"/"make") with file:line."""
from premortem.parse.scripts import parse_makefile, parse_shell_script


def _cmds(res):
    return [(c["line"], c["argv"]) for s in res.data["steps"] for c in s["commands"]]


def test_shell_script_is_one_manual_job_with_command_lines():
    text = "#!/bin/sh\nset -e\n\nkubectl -n production \\\n  edit deploy/api\nhelm upgrade x ./c\n"
    [res], errors = parse_shell_script(text, "scripts/hotfix.sh")
    assert not errors
    assert (res.data["system"], res.name, res.data["triggers"], res.data["gate"]["manual"]) == \
        ("script", "hotfix.sh", ["manual"], False)
    assert _cmds(res) == [(2, ["set", "-e"]), (4, ["kubectl", "-n", "production", "edit", "deploy/api"]),
                          (6, ["helm", "upgrade", "x", "./c"])]
    assert res.positions[("steps", 0, "commands", 2)] == (6, 1)


def test_empty_script_gives_no_job():
    assert parse_shell_script("#!/bin/sh\n# nothing\n", "x.sh") == ([], [])


MAKEFILE = """\
TF_FLAGS := -lock=false
NS ?= production
NS ?= staging
EXTRA = -input=false
EXTRA += -no-color

.PHONY: deploy plan
deploy: build plan
\t@echo deploying
\t-kubectl apply -n $(NS) -f k8s/ \\
\t  --server-side
plan apply-plan:
\tterraform plan ${TF_FLAGS} $(EXTRA) -out=tfplan
\techo $$HOME
not-a-recipe = value
"""


def test_makefile_targets_recipes_and_variables():
    jobs, errors = parse_makefile(MAKEFILE, "Makefile")
    assert not errors
    by = {j.name: j for j in jobs}
    assert set(by) == {"deploy", "plan", "apply-plan"}
    assert by["deploy"].data["needs"] == ["build", "plan"] and by["deploy"].line == 8
    assert _cmds(by["deploy"]) == [(9, ["echo", "deploying"]),
                                   (10, ["kubectl", "apply", "-n", "production", "-f", "k8s/", "--server-side"])]
    assert by["deploy"].positions[("steps", 0, "commands", 1)] == (10, 3)  # after the tab and `-`
    assert _cmds(by["plan"]) == [(13, ["terraform", "plan", "-lock=false", "-input=false", "-no-color", "-out=tfplan"]),
                                 (14, ["echo", "$HOME"])]
    assert by["plan"].data["system"] == "make"


def test_makefile_recipe_prefix_and_comments():
    text = ".RECIPEPREFIX = >\nall:\n> # a comment\n> make -C sub\n"
    [job], _ = parse_makefile(text, "sub/Makefile")
    assert _cmds(job) == [(4, ["make", "-C", "sub"])]
