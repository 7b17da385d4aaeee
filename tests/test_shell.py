from premortem.parse.shell import block_commands, commands


def test_pipelines_lists_and_assignments_keep_lines():
    cmds = commands("FOO=1 terraform apply -lock=false plan && echo ok | tee log\ncurl -fsSL x | bash || true", 7)
    assert [c["argv"][0] for c in cmds] == ["terraform", "echo", "tee", "curl", "bash", "true"]
    assert cmds[0]["env"] == {"FOO": "1"} and cmds[0]["argv"][2] == "-lock=false" and cmds[0]["line"] == 7
    assert cmds[1]["pipeline"] == cmds[2]["pipeline"] != cmds[0]["pipeline"]
    assert cmds[3]["line"] == 8 and cmds[3]["pipeline"] == cmds[4]["pipeline"]
    assert cmds[4]["or_true"] and not cmds[3]["or_true"]
    assert not any(c["fallback"] for c in cmds)


def test_export_is_inherited_and_template_expressions_survive():
    cmds = commands('export TF_CLI_ARGS_apply="-lock=false"\nterraform apply ${{ env.PLAN }}', 1)
    assert cmds[1]["env"]["TF_CLI_ARGS_apply"] == "-lock=false"
    assert cmds[1]["argv"] == ["terraform", "apply", "${{ env.PLAN }}"] and cmds[1]["line"] == 2


def test_unparseable_body_falls_back_per_line_without_crashing():
    cmds = commands('echo "unterminated\nhelm upgrade api ./chart --set image.tag=latest', 3)
    assert cmds[0]["fallback"] is True
    helm = cmds[-1]
    assert helm["argv"][:2] == ["helm", "upgrade"] and helm["line"] == 4 and helm["fallback"] is False


def test_compound_commands_and_block_scalar_positions():
    lines = ["    run: |", "      if [ x ]; then", "        kubectl apply -f k8s/ -n prod", "      fi"]
    cmds, places = block_commands("if [ x ]; then\n  kubectl apply -f k8s/ -n prod\nfi\n", (1, 10), lines)
    k = [c for c in cmds if c["argv"][0] == "kubectl"][0]
    assert k["line"] == 3 and places[cmds.index(k)] == (3, 9)
