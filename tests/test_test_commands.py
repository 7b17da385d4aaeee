"""rules/delivery/_tests.py: which commands run tests, which skip them, when a failure is ignored,
which branches a job condition keeps a job off; and PM104 end to end on small pipelines."""
import textwrap

import pytest

from premortem.config import Config, RuleConfig
from premortem.parse.shell import commands
from premortem.rules.delivery import _tests as T

from .conftest import run_scan


@pytest.mark.parametrize("line, what", [
    ("pytest -q tests/", "pytest"),
    ("python3 -m pytest", "pytest"),
    ("poetry run pytest -x", "pytest"),
    ("coverage run -m pytest", "pytest"),
    ("timeout 600 pytest", "pytest"),
    ("docker compose run --rm web pytest", "pytest"),
    ("npx jest --ci", "jest"),
    ("yarn jest", "jest"),
    ("bundle exec rspec", "rspec"),
    ("npm test", "npm test"),
    ("npm run test:unit", "npm run test:unit"),
    ("yarn test:e2e", "yarn test:e2e"),
    ("pnpm --filter web test", "pnpm test"),
    ("./mvnw -B clean verify", "mvn verify"),
    ("mvn surefire:test", "mvn surefire:test"),
    ("./gradlew :app:testDebugUnitTest", "gradle :app:testDebugUnitTest"),
    ("gradle integrationTest", "gradle integrationTest"),
    ("make -C backend test", "make test"),
    ("make unit-test", "make unit-test"),
    ("go test ./...", "go test"),
    ("cargo test --all", "cargo test"),
    ("dotnet test", "dotnet test"),
    ("sbt clean test", "sbt test"),
    ("tox -e py311", "tox"),
    ("python manage.py test", "manage.py test"),
    ("php artisan test", "artisan test"),
    ("npx cypress run", "cypress run"),
    ("./run_tests.sh", "run_tests.sh"),
    ("bash scripts/test.sh", "test.sh"),
])
def test_test_commands_are_recognised_through_wrappers(line, what):
    (cmd,) = [c for c in commands(line) if c["argv"]]
    assert T.test_command(cmd["argv"]) == what


@pytest.mark.parametrize("line", [
    "npm ci", "npm run build", "npm run lint", "yarn add -D test-utils", "mvn -B package", "go vet ./...",
    "make check-format", "make latest", "tox -e lint", "npx cypress install", "rm -rf test-results",
    "echo test", "codecov upload", "helm test api",
])
def test_near_misses_are_not_test_commands(line):
    assert all(T.test_command(c["argv"]) == "" for c in commands(line))


def test_options_tune_the_tool_lists():
    assert T.test_command(["robot", "suite/"]) == ""
    assert T.test_command(["robot", "suite/"], {"test_tools": ["robot"]}) == "robot"
    assert T.test_command(["pytest"], {"test_tools": []}) == ""  # a user may drop a tool
    assert T.test_command(["just", "verify"], {"test_subcommands": ["just verify"]}) == "just verify"


def test_runs_tests_includes_lifecycle_builds_unless_skipped():
    assert T.runs_tests(["mvn", "-B", "package"]) and T.runs_tests(["./gradlew", "build"])
    assert not T.runs_tests(["mvn", "-B", "package", "-DskipTests"])
    assert not T.runs_tests(["./gradlew", "build", "-x", "test"])
    assert not T.runs_tests(["npm", "run", "build"])


@pytest.mark.parametrize("argv, env, flag", [
    (["mvn", "-B", "package", "-DskipTests"], {}, "-DskipTests"),
    (["mvn", "package", "-Dmaven.test.skip=true"], {}, "-Dmaven.test.skip=true"),
    (["mvn", "package", "-DskipTests=false"], {}, ""),
    (["mvn", "package", "-Dmaven.test.skip=false"], {}, ""),
    (["mvn", "$MAVEN_CLI_OPTS", "package"], {"MAVEN_CLI_OPTS": "--batch-mode -DskipTests"},
     "-DskipTests (from $MAVEN_CLI_OPTS)"),
    (["mvn", "package"], {"MAVEN_OPTS": "-Dmaven.test.skip=true"}, "-Dmaven.test.skip=true (from MAVEN_OPTS)"),
    (["mvn", "package"], {"MAVEN_CLI_OPTS": "-DskipTests"}, ""),  # not read unless referenced
    (["./gradlew", "build", "-x", "test"], {}, "-x test"),
    (["./gradlew", "build", "--exclude-task", ":app:integrationTest"], {}, "--exclude-task :app:integrationTest"),
    (["./gradlew", "build", "-x", "lint"], {}, ""),
    (["npm", "test", "--if-present"], {}, ""),  # runs the tests whenever there are any
])
def test_skip_flags(argv, env, flag):
    assert T.skip_flag(argv, env) == flag


@pytest.mark.parametrize("script, why", [
    ("pytest -q || true", "`|| true`"),
    ("pytest -q || :", "`|| :`"),
    ("pytest -q || exit 0", "`|| exit 0`"),
    ("pytest && echo ok || true", "`|| true`"),
    ('pytest || echo "tests failed"', '`|| echo "tests failed"`'),
    ("set +e\npytest\necho done", "`set +e` earlier in the script"),
    ("pytest || exit 1", ""),
    ("pytest || { echo failed; exit 1; }", ""),
    ("pytest || echo failed && exit 1", ""),
    ("set +e\npytest", ""),  # the last command's status is the script's
    ("set +e\npytest\nrc=$?\nexit $rc", ""),
    ("set +e\nset -e\npytest\necho x", ""),
    ("set +e\npytest | tee log", ""),  # the pipeline is the last command
    ("rm -rf x || true\npytest", ""),
])
def test_ignored_failures(script, why):
    cmds = commands(script)
    j = next(k for k, c in enumerate(cmds) if c["argv"][:1] == ["pytest"])
    assert T.ignored(cmds, j, script) == why


@pytest.mark.parametrize("condition, eq, ne", [
    ("github.ref != 'refs/heads/main'", [], ["main"]),
    ("github.ref == 'refs/heads/main' && github.event_name == 'push'", ["main"], []),
    ("github.ref_name != 'release'", [], ["release"]),
    ("except: ['main']", [], ["main"]),
    ("except: {'refs': ['main', 'tags']}", [], ["main"]),
    ("except: {'variables': ['$CI_COMMIT_BRANCH == \"main\"']}", [], ["main"]),
    ('$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH', [], ["$CI_DEFAULT_BRANCH"]),
    ('$CI_COMMIT_BRANCH == "main" when: never', [], ["main"]),
    ("not { branch 'main' }", [], ["main"]),
    ("branch 'main'", ["main"], []),
    ("expression { env.BRANCH_NAME != 'main' }", [], ["main"]),
    ("anyOf { branch 'main'; branch 'dev' }", [], []),
    ("github.event_name == 'pull_request'", [], []),
])
def test_branch_filters(condition, eq, ne):
    assert T.branch_filters(condition) == (eq, ne)


def test_runs_on_and_deploy_branches():
    test = {"conditions": ["not { branch 'hotfix/*' }"], "branches": []}
    assert T.runs_on(test, "main") == (True, None, "")
    assert T.runs_on(test, "hotfix/login")[:2] == (False, 0)
    dev_only = {"conditions": ["only: ['develop']"], "branches": ["develop"]}
    assert T.runs_on(dev_only, "main") == (False, 0, "it runs only on 'develop'")
    assert T.runs_on({"conditions": ["except: ['main']"]}, "$CI_DEFAULT_BRANCH")[0] is False
    # a condition on the branch is narrower than the workflow's `on.push.branches`
    assert T.deploy_branches({"branches": ["main", "develop"], "conditions": ["github.ref == 'refs/heads/main'"]}) \
        == ["main"]
    assert T.deploy_branches({"branches": [], "conditions": []}) == ["*"]
    assert T.deploy_branches({"branches": [], "conditions": ["params.DEPLOY"]}) == []


def test_enforced_needs_a_test_whose_failure_fails_the_job():
    def job(script, **kw):
        return {"steps": [{"run": script, "commands": commands(script), **kw}], **kw.pop("job", {})}
    assert T.enforced(job("mvn -B package"))
    assert not T.enforced(job("mvn -B package -DskipTests"))
    assert not T.enforced(job("pytest || true"))
    assert not T.enforced(job("pytest", continue_on_error=True))
    assert not T.enforced({**job("pytest"), "allow_failure": True})
    reported = job("pytest --junitxml=r.xml || true")
    reported["steps"].append({"uses": "dorny/test-reporter@v1", "commands": []})  # fail-on-error by default
    assert T.enforced(reported)
    reported["steps"][-1] = {"uses": "mikepenz/action-junit-report@v4", "commands": []}  # does not fail by default
    assert not T.enforced(reported)
    reported["steps"][-1]["with"] = {"fail_on_failure": True}
    assert T.enforced(reported)


def _scan(tmp_path, files, config=None):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    result = run_scan(tmp_path, select=["PM104"], config=config)
    assert not result.errors, result.errors
    return [(f.file, f.line, f.message) for f in result.findings]


WORKFLOW = """\
    on: push
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: robot suite/ || true
      deploy:
        needs: test
        runs-on: ubuntu-latest
        steps:
          - run: kubectl apply -f k8s/ -n production
    """


def test_pm104_option_adds_a_test_tool_and_says_it_feeds_the_deploy(tmp_path):
    assert _scan(tmp_path, {".github/workflows/ci.yml": WORKFLOW}) == []
    cfg = Config(rules={"PM104": RuleConfig(options={"test_tools": ["robot"]})})
    [(file, line, msg)] = _scan(tmp_path, {".github/workflows/ci.yml": WORKFLOW}, cfg)
    assert (file, line) == (".github/workflows/ci.yml", 6)
    assert msg.startswith("`robot suite/` in job 'test' runs robot but `|| true` ignores its failure")
    assert msg.endswith("feeds a deploy: job 'deploy' runs `kubectl apply` after it")


def test_pm104_quiet_without_a_deploy_and_in_parallel_jobs_says_pipeline(tmp_path):
    no_deploy = WORKFLOW.replace("kubectl apply -f k8s/ -n production", "echo done").replace("robot suite/", "pytest")
    assert _scan(tmp_path, {".github/workflows/ci.yml": no_deploy}) == []
    parallel = WORKFLOW.replace("robot suite/", "pytest").replace("        needs: test\n", "")
    [(_, _, msg)] = _scan(tmp_path, {".github/workflows/ci.yml": parallel})
    assert msg.endswith("in a pipeline whose job 'deploy' runs `kubectl apply`")


def test_pm104_jenkins_env_param_typo_from_the_seed(tmp_path):
    text = """\
        pipeline {
          agent any
          parameters { string(name: 'DAY', defaultValue: 'Monday') }
          stages {
            stage('Test') {
              when { not { expression { env.DAY == 'Saturday' } } }
              steps { sh './run_tests.sh' }
            }
            stage('Deploy') {
              when { branch 'main' }
              steps { sh './deploy.sh' }
            }
          }
        }
        """
    [(file, line, msg)] = _scan(tmp_path, {"Jenkinsfile": text})
    assert (file, line) == ("Jenkinsfile", 6)
    assert "test stage 'Test' decides whether to run on `env.DAY`, but DAY is a parameter" in msg
    assert "read it as `params.DAY`" in msg and "feeds a deploy: job 'Deploy' runs `script deploy.sh`" in msg
    fixed = text.replace("env.DAY", "params.DAY")
    assert _scan(tmp_path, {"Jenkinsfile": fixed}) == []
    # DAY also set in `environment {}`: env.DAY is that value, not a typo
    env_set = text.replace("  stages {", "  environment {\n    DAY = 'Monday'\n    X = 'y'\n  }\n  stages {", 1)
    assert _scan(tmp_path, {"Jenkinsfile": env_set}) == []
