"""Jenkinsfiles (declarative, scripted, broken) into PipelineJob resources with exact positions."""
from pathlib import Path

from premortem.parse.jenkinsfile import parse_jenkinsfile
from premortem.parse.pipelines import parse_pipeline

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "jenkins"


def _jobs(path: Path, rel: str = "Jenkinsfile"):
    resources, errors = parse_jenkinsfile(path.read_text(), rel)
    return {r.name: r for r in resources}, errors


def test_narrative_jenkinsfile_skip_staging():
    jobs, errors = _jobs(ROOT / "examples" / "payments-outage" / "Jenkinsfile")
    assert errors == []  # `{ return x }` on one line is valid Groovy, no false syntax error
    assert list(jobs) == ["Build", "Deploy to Staging", "Deploy to Prod"]
    prod = jobs["Deploy to Prod"]
    assert prod.format == "pipeline" and prod.kind == "PipelineJob" and prod.line == 20
    assert prod.data["system"] == "jenkins"
    assert prod.data["conditions"] == ["expression { return params.SKIP_STAGING == true }"]
    assert prod.locate(("conditions", 0)).line == 22
    assert jobs["Deploy to Staging"].data["conditions"] == ["expression { return params.SKIP_STAGING == false }"]
    assert prod.data["params"] == [{"name": "SKIP_STAGING", "kind": "booleanParam", "default": False, "line": 4}]
    assert prod.data["gate"] == {"manual": False, "blocking": False, "approval": ""}
    assert prod.data["environment"] is None and prod.data["needs"] == ["Deploy to Staging"]
    (step,) = prod.data["steps"]
    assert step["name"] == "sh" and step["line"] == 25
    assert step["run"].startswith("helm upgrade --install payment-api ./charts/payment-api --namespace production")
    (cmd,) = step["commands"]
    assert cmd["argv"][:2] == ["helm", "upgrade"] and "image.tag=latest" in cmd["argv"]
    src = prod.locate(("steps", 0, "commands", 0))
    assert (src.file, src.line, src.column) == ("Jenkinsfile", 25, 13)
    staging = jobs["Deploy to Staging"].data["steps"][0]
    assert staging["line"] == 17 and "staging" in staging["commands"][0]["argv"]
    build = [s["commands"][0]["argv"] for s in jobs["Build"].data["steps"]]
    assert build[0] == ["mvn", "-B", "package", "-DskipTests"] and build[2][:2] == ["docker", "push"]


def test_seed_1_2_env_vs_params_typo_stays_visible():
    jobs, errors = _jobs(DATA / "seed-1.2-typo.Jenkinsfile")
    assert errors == []
    test = jobs["Test"]
    assert test.data["conditions"] == ["not { expression { env.DAY == 'Saturday' } }"]
    assert test.locate(("conditions", 0)).line == 9
    assert test.data["params"] == [{"name": "DAY", "kind": "string", "default": "Monday", "line": 4}]
    assert jobs["Deploy"].data["branches"] == ["main"] and jobs["Deploy"].data["needs"] == ["Test"]
    assert jobs["Deploy"].data["steps"][0]["commands"][0]["argv"] == ["./deploy.sh"]


def test_seed_1_2_fix_branch_filters():
    jobs, errors = _jobs(DATA / "seed-1.2-fix.Jenkinsfile")
    assert errors == []
    # a branch inside `not {}` is not a branch filter
    assert jobs["Test"].data["branches"] == [] and jobs["Test"].data["conditions"] == ["not { branch 'hotfix/*' }"]
    assert jobs["Deploy"].data["branches"] == ["main"]
    assert jobs["Deploy"].locate(("steps", 0)).line == 21


def test_declarative_features():
    text = """pipeline {
  agent any
  environment { FOO = 'bar' }
  stages {
    stage('Prod') {
      when { allOf { branch 'release/*'; environment name: 'DEPLOY_TO', value: 'production' } }
      input { message "Ship?" ; ok 'Yes' }
      steps {
        sh(script: '''
          helm upgrade api ./chart \\
            --set image.tag=${env.TAG}
        ''', returnStdout: true)
        withCredentials([file(credentialsId: 'kc', variable: 'KUBECONFIG')]) { sh 'kubectl get pods' }
        script { sh "echo ${params.X}" }
      }
    }
    stage('Checks') {
      parallel {
        stage('lint') { steps { bat 'lint.cmd' } }
        stage('unit') { steps { sh 'make test' } }
      }
    }
  }
}
"""
    resources, errors = parse_jenkinsfile(text, "ci/deploy.groovy")
    assert errors == []
    jobs = {r.name: r for r in resources}
    prod = jobs["Prod"]
    assert prod.data["branches"] == ["release/*"] and prod.data["environment"] == "production"
    assert prod.locate(("environment",)).line == 6
    assert prod.data["gate"] == {"manual": True, "blocking": True, "approval": "input: Ship?"}
    assert prod.locate(("gate",)).line == 7
    assert prod.data["env"] == {"FOO": "bar"}
    helm, kubectl, echo = prod.data["steps"]
    assert helm["line"] == 9 and helm["commands"][0]["argv"] == ["helm", "upgrade", "api", "./chart", "--set",
                                                                 "image.tag=${env.TAG}"]
    assert prod.locate(("steps", 0, "commands", 0)).line == 10
    assert kubectl["credentials"] == [{"id": "kc", "kind": "file", "variables": ["KUBECONFIG"]}]
    assert echo["run"] == "echo ${params.X}" and echo["credentials"] == []
    assert jobs["lint"].data["steps"][0]["name"] == "bat"
    assert jobs["unit"].data["needs"] == [] and jobs["Checks"].data["needs"] == ["Prod"]


def test_scripted_pipeline_input_step_gates_later_stages():
    jobs, errors = _jobs(DATA / "scripted.Jenkinsfile")
    assert errors == []
    assert list(jobs) == ["Test", "Approve", "Deploy", "Hotfix"]
    assert jobs["Test"].data["gate"]["manual"] is False
    assert jobs["Test"].data["steps"][0]["continue_on_error"] is True  # catchError
    assert jobs["Approve"].data["gate"]["approval"] == "input: Ship to production?"
    deploy = jobs["Deploy"]
    assert deploy.data["gate"]["manual"] and "Approve" in deploy.data["gate"]["approval"]
    kubectl, helm = deploy.data["steps"][0]["commands"]
    assert kubectl["argv"][:3] == ["kubectl", "--context", "prod-cluster"] and kubectl["line"] == 22
    assert helm["line"] == 23 and "image.tag=${env.GIT_COMMIT}" in helm["argv"]
    assert deploy.locate(("steps", 0, "commands", 1)).column == 9
    assert deploy.data["steps"][0]["credentials"][0]["id"] == "prod-kubeconfig"
    hotfix = jobs["Hotfix"]
    assert hotfix.data["conditions"] == ["(params.FORCE_DEPLOY)"]
    assert hotfix.data["steps"][0]["continue_on_error"] is True  # returnStatus: true
    params = {p["name"]: p["default"] for p in hotfix.data["params"]}
    assert params == {"FORCE_DEPLOY": False, "TARGET": "staging"}


def test_input_after_the_deploy_step_is_no_gate():
    text = "node {\n  stage('Prod') {\n    sh 'kubectl apply -f prod/'\n    input 'Was it fine?'\n  }\n}\n"
    (job,), errors = parse_jenkinsfile(text, "Jenkinsfile")
    assert errors == [] and job.data["gate"]["manual"] is False


def test_malformed_reports_line_and_keeps_what_parsed():
    jobs, errors = _jobs(DATA / "malformed.Jenkinsfile", "jenkins/bad.groovy")
    (err,) = errors
    assert err.file == "jenkins/bad.groovy" and err.line == 8 and "syntax error" in err.message
    assert jobs["Build"].data["steps"][0]["commands"][0]["argv"] == ["make"]


def test_garbage_never_raises():
    for text in ("", "}}}{{{", "pipeline {", "stage(", "sh '''unterminated", "\x00\xff"):
        resources, errors = parse_jenkinsfile(text, "Jenkinsfile")
        assert isinstance(resources, list)
        assert bool(errors) == (text not in ("",))


def test_dispatch_through_pipelines():
    resources, _ = parse_pipeline("jenkins", "node { stage('a') { sh 'ls' } }", "Jenkinsfile")
    assert [r.name for r in resources] == ["a"]


def test_multi_line_environment_and_captured_return_status():
    text = """pipeline {
  environment {
    APP = 'api'
    RUN_SLOW = "${env.BRANCH_NAME}"
  }
  stages {
    stage('Test') {
      environment {
        A = '1'
        B = '2'
      }
      steps {
        script {
          def rc = sh(script: 'mvn test', returnStatus: true)
          status = sh(script: 'npm test', returnStatus: true)
          sh(script: 'pytest', returnStatus: true)
        }
      }
    }
  }
}
"""
    (job,), errors = parse_jenkinsfile(text, "Jenkinsfile")
    assert errors == []
    # every assignment of a multi-line block, pipeline level and stage level (each is its own statement)
    assert job.data["env"] == {"APP": "api", "RUN_SLOW": "${env.BRANCH_NAME}", "A": "1", "B": "2"}
    # a status kept in a variable or compared may be checked; a dropped one is ignored
    assert [s["continue_on_error"] for s in job.data["steps"]] == [False, False, True]


PLUGIN_STEPS = """\
pipeline {
  agent any
  stages {
    stage('Ship') {
      steps {
        script {
          def img = docker.build("acme/api:${env.GIT_COMMIT}")
          grypeScan(image: "acme/api:${env.GIT_COMMIT}", failOnSeverity: 'high')
        }
        dir('envs/prod') {
          withKubeConfig([credentialsId: 'prod-cluster-admin', serverUrl: 'https://k8s']) {
            sh 'kubectl apply -f .'
          }
        }
        echo "done"
      }
    }
  }
}
"""


def test_plugin_steps_credential_wrappers_and_dir():
    [job], errors = parse_jenkinsfile(PLUGIN_STEPS, "Jenkinsfile")
    assert not errors
    steps = job.data["steps"]
    assert [(s["line"], s["uses"]) for s in steps] == [(7, "docker.build"), (8, "grypeScan"), (12, None)]
    assert "failOnSeverity: 'high'" in steps[1]["with"]["args"]
    assert job.positions[("steps", 1)] == (8, 11)
    assert steps[2]["dir"] == "envs/prod"
    assert steps[2]["credentials"] == [{"id": "prod-cluster-admin", "kind": "withKubeConfig", "variables": []}]
