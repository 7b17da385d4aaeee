"""PM105: production gets a fresh build (or a staging-tagged one) instead of the artifact tested in staging."""
from ..registry import Hit, rule
from ._artifacts import BUILD_ACTIONS, BUILDS, deployed_images, deploys, find, pr_only, preprod_tag
from ._flow import downstream, is_ci, label, pipeline_jobs


@rule(id="PM105", name="production-rebuilds-artifact", severity="high",
      severity_reason="Production runs a build nobody tested: other dependencies, base image or code than staging saw.",
      incidents=["1.3"], title="Production deploy rebuilds the artifact or ships a staging-tagged one",
      formats=("pipeline",), kinds=("PipelineJob",),
      options={"builds": BUILDS, "build_actions": BUILD_ACTIONS},
      fix="Build once, deploy that exact artifact to staging, then promote the same digest to production "
          "(`crane copy`, `docker tag $SHA` + push, `--set image.tag=$CI_COMMIT_SHA`); never rebuild for production.")
def check(resource, ctx):
    """## What it checks
    Two ways the artifact that reaches production is not the one tested:
    - a build (`docker build`, `docker buildx build`, kaniko, `buildah bud`, `mvn package`,
      `npm run build`, jib, `pack build`, `docker/build-push-action`... options `builds`,
      `build_actions`) in a CI job whose output is deployed to production (by a deploy command
      after it in the same job, or by a job that runs after it) but to no staging/test
      environment, when the same pipeline does deploy to staging/test: staging got another build.
      Reported at the build. A build that feeds both staging and production (build once, promote)
      is fine, so is a promotion (`crane copy`, `docker tag $SHA ... && docker push`) and a build in
      a job that only runs for pull/merge requests. Jobs that run in parallel with no ordering
      (GitHub jobs without `needs`) are not linked, so such a pipeline stays quiet.
    - a production deploy command that sets a pre-production tag: `--set image.tag=staging`,
      `kubectl set image ... app=repo/app:v2.1-staging`, `:qa`, `:uat`, `:dev`, `-test`.
      Words count only as whole parts of the tag (`latest`, `devops-1` are not `test`, `dev`);
      `stage` only as the whole tag or its suffix (`stage-2` is left alone).
    Production comes from the job's environment, namespace, kube context, values files or its branch.

    ## Why it breaks production
    In catalog 1.3 a multistage pipeline tagged the staging artifact `v2.1-staging` and deployed it
    to production, shipping features meant for internal review; there was no checksum or promotion
    gate. Rebuilding for production is the same gamble: the build that runs there was never tested.

    ## Bad
    ```yaml .gitlab-ci.yml
    stages: [build, staging, production]
    build:
      stage: build
      script:
        - docker build -t registry.example.com/shop/api:$CI_COMMIT_SHA .
        - docker push registry.example.com/shop/api:$CI_COMMIT_SHA
    deploy-staging:
      stage: staging
      environment: staging
      script:
        - helm upgrade api ./chart -n staging --set image.tag=$CI_COMMIT_SHA
    deploy-production:
      stage: production
      environment: production
      when: manual
      allow_failure: false
      script:
        - docker build -t registry.example.com/shop/api:prod .
        - docker push registry.example.com/shop/api:prod
        - helm upgrade api ./chart -n production --set image.tag=prod
    ```

    ## Good
    ```yaml .gitlab-ci.yml
    stages: [build, staging, production]
    build:
      stage: build
      script:
        - docker build -t registry.example.com/shop/api:$CI_COMMIT_SHA .
        - docker push registry.example.com/shop/api:$CI_COMMIT_SHA
    deploy-staging:
      stage: staging
      environment: staging
      script:
        - helm upgrade api ./chart -n staging --set image.tag=$CI_COMMIT_SHA
    deploy-production:
      stage: production
      environment: production
      when: manual
      allow_failure: false
      script:
        - helm upgrade api ./chart -n production --set image.tag=$CI_COMMIT_SHA
    ```

    ## Fix
    Build one artifact per commit, tag it with the commit SHA (or pin its digest), deploy it to
    staging, and promote exactly that artifact to production after staging passes.
    """
    data, who = resource.data, label(resource)
    own = deploys(resource.name, data, ctx.config, resource.file)
    for _, path, action, kind, evidence, cmd in own:
        if kind != "production":
            continue
        for shown, tag, _ in deployed_images(cmd["argv"]):
            word = preprod_tag(tag)
            if word:
                yield Hit(path=path, production=evidence, message=(
                    f"`{action}` to production in {who} sets {shown}: a '{word}'-tagged artifact goes live, "
                    "the build meant for pre-production review, not one promoted by its digest after staging passed"))
    if not is_ci(data) or pr_only(data):
        return
    builds = find(data, ctx.options.get("builds") or BUILDS, ctx.options.get("build_actions") or BUILD_ACTIONS)
    if not builds:
        return
    plans = {n: (own if n == resource.name else deploys(n, d, ctx.config, resource.file))
             for n, d in pipeline_jobs(ctx, resource)}
    staging = [n for n, plan in plans.items() if any(p[3] == "staging" for p in plan)]
    later = [n for n, _ in downstream(ctx, resource)]
    if not staging or any(n in staging for n in later + [resource.name]):
        return  # no staging in this pipeline, or this build is the one staging tested
    order, path, what, _ = builds[0]
    prod = [(f"this job (`{p[2]}`)", p[4]) for p in own if p[3] == "production" and p[0] > order]
    prod += [(f"job '{n}' (`{p[2]}`)", p[4]) for n in later for p in plans.get(n, []) if p[3] == "production"]
    if not prod:
        return
    where, evidence = prod[0]
    yield Hit(path=path, production=evidence, message=(
        f"{who} builds the artifact again (`{what}`) and {where} deploys that build to production, while "
        f"staging got a different build (job '{staging[0]}'): production runs an artifact that was never "
        "tested; promote the staging-tested image by its digest instead"))
