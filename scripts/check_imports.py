"""Imports every module of the project's packages, so a broken import fails CI early."""

import importlib
import pkgutil
import sys

PACKAGES = [
    "kernel",
    "ragline",
    "ingest",
    "chunkers",
    "retrieval",
    "answer",
    "api",
    "workers",
    "text",
    "generation",
    "prompts",
    "usage",
    "evals",
    "governance",
    "observability",
    "releases",
]


def main() -> int:
    failures = []
    count = 0
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if module.name.endswith("__main__"):
                continue
            count += 1
            try:
                importlib.import_module(module.name)
            except Exception as exc:  # noqa: BLE001 - we report every failure
                failures.append(f"{module.name}: {type(exc).__name__}: {exc}")
    for failure in failures:
        print(failure)
    print(f"imported {count} modules, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
