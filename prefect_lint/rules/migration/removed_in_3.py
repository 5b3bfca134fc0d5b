"""PFL301 removed-in-3: a Prefect 2 name that Prefect 3 no longer has."""

from __future__ import annotations

from prefect_lint.diagnostics import Applicability
from prefect_lint.model.migration import Change
from prefect_lint.rules.base import FixMeta, RuleMeta
from prefect_lint.rules.migration.shared import MovedNameRule, moved_names_trigger
from prefect_lint.versions import PREFECT_3


class RemovedIn3(MovedNameRule):
    """name removed in Prefect 3

    ## What it does
    Checks for imports and uses of Prefect 2 names that Prefect 3 removed: agents and
    infrastructure blocks (`prefect.infrastructure.Process`, `DockerContainer`, `KubernetesJob`),
    `Deployment` / `Deployment.build_from_flow`, the storage blocks of `prefect.filesystems`
    (`S3`, `GCS`, `Azure`, `GitHub`), `SequentialTaskRunner`, `prefect.orion`, and the other
    rows of prefect-lint's migration table (seeded from Prefect's own `REMOVED_IN_V3` list and the
    2.20 -> 3.x module diff). The Versions section lists
    every row.

    ## Why is this bad?
    The module fails at import on Prefect 3, before any flow runs. Prefect routes many removed
    names through a module `__getattr__`, so type checkers do not see them; Python does:

    ```text
    PrefectImportError: `prefect.deployments:Deployment` has been removed. Use `flow.serve()`, `flow.deploy()`, or `prefect deploy` instead.
    ImportError: cannot import name 'SequentialTaskRunner' from 'prefect.task_runners'
    ModuleNotFoundError: No module named 'prefect.orion'
    ```

    Code guarded as compatibility code (inside `try: ... except ImportError:`, or in a branch of
    an `if` that checks a version) is left alone: it is written to run on both generations.

    ## Example
    ```python
    from prefect.deployments import DeploymentImage
    from prefect.deployments.deployments import run_deployment

    image = DeploymentImage(name="etl", tag="v1", dockerfile="Dockerfile")
    run_deployment("etl/nightly", timeout=0)
    ```

    ## Use instead
    ```python
    from prefect.deployments import run_deployment
    from prefect.docker import DockerImage

    image = DockerImage(name="etl", tag="v1", dockerfile="Dockerfile")
    run_deployment("etl/nightly", timeout=0)
    ```

    `Deployment.build_from_flow(etl, name="nightly").apply()` has no mechanical rewrite: the
    message says to deploy with `etl.deploy(name="nightly", work_pool_name=...)` or
    `etl.serve(name="nightly")`.

    ## Fix safety
    Where Prefect 3 has the same object under another name (`run_deployment` from
    `prefect.deployments`, `prefect.docker.DockerImage` for `DeploymentImage`,
    `prefect.deployments.runner.RunnerDeployment`), the fix imports it from there: safe, since
    the old spelling cannot run on Prefect 3 at all and the new one is the same object with the
    same signature. The import is merged into an existing import of the new module, and the old
    one is removed. Everything else (`Deployment`, infrastructure and storage blocks, the system
    blocks `JSON`/`String`/`DateTime`) needs a person: the message says what to use (`flow.deploy`
    or `flow.serve`, a work pool and worker, `prefect_aws.S3Bucket`, a `Variable`).

    The upgrade check of a Prefect 2 project:
    `prefect-lint check --target-version 3.9 --select PFL3` lists what breaks, the same with
    `--fix` rewrites what is mechanical, and what is reported after that is left by hand.

    ## Versions
    Each row states the releases where its old spelling fails: most fail on every 3.x; the
    system blocks `JSON`, `String` and `DateTime` and `prefect.runner.submit_to_runner` only from
    3.5 (3.0-3.4 still have them), so those rows are silent for a 3.0-3.4 target. Against a 2.x
    target nothing is reported; run the upgrade check with `--target-version 3.x`.

    ## Prefect facts
    - migration-table
    - entrypoints-are-imported
    """

    change = Change.REMOVED
    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(title="Use the Prefect 3 replacement", safety=Applicability.SAFE),
    )
    trigger = moved_names_trigger(change)
