from premortem.parse.gitlab_ci import parse_gitlab_ci

CI = """variables:
  TF_CLI_ARGS_plan: "-lock=false"
.deploy:
  script:
    - helm upgrade api chart -n production
deploy_prod:
  extends: .deploy
  stage: deploy
  environment: {name: production}
  when: manual
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
gated:
  extends: .deploy
  when: manual
  allow_failure: false
rules_manual:
  extends: .deploy
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
"""


def test_extends_positions_and_manual_gates():
    res, errors = parse_gitlab_ci(CI, ".gitlab-ci.yml")
    assert errors == []
    jobs = {r.name: r for r in res}
    assert set(jobs) == {"deploy_prod", "gated", "rules_manual"}  # hidden template and `variables` are not jobs
    d = jobs["deploy_prod"].data
    assert d["stage"] == "deploy" and d["environment"] == "production" and d["branches"] == ["main"]
    assert d["gate"] == {"manual": True, "blocking": False, "approval": "when: manual"}  # allow_failure defaults true
    assert jobs["gated"].data["gate"]["blocking"] is True
    assert jobs["rules_manual"].data["gate"]["blocking"] is True  # manual in rules defaults to blocking
    assert jobs["rules_manual"].data["branches"] == ["$CI_DEFAULT_BRANCH"]
    cmd = d["steps"][0]["commands"][0]
    assert cmd["argv"][:2] == ["helm", "upgrade"] and cmd["env"]["TF_CLI_ARGS_plan"] == "-lock=false"
    assert jobs["deploy_prod"].locate(("steps", 0, "commands", 0)).line == 5  # the template's line


def test_when_never_rule_is_an_exclusion_not_a_branch_filter():
    from premortem.parse.gitlab_ci import parse_gitlab_ci

    [job], errors = parse_gitlab_ci('unit:\n  script: [pytest]\n  rules:\n'
                                    '    - if: $CI_COMMIT_BRANCH == "main"\n      when: never\n    - when: always\n',
                                    ".gitlab-ci.yml")
    assert not errors
    assert job.data["branches"] == []
    assert job.data["conditions"] == ['$CI_COMMIT_BRANCH == "main" when: never']
