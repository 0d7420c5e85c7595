"""Fixtures: a tiny synthetic datasets folder (fast) and the real model trained once per run.

`shared_datasets` and `trained_models_dir` live in tests/conftest.py (the monitoring tests use the
same model, so it is trained once per test run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classifiers.tiny_data import write_tiny_datasets

@pytest.fixture(scope="session")
def tiny_datasets(tmp_path_factory) -> Path:
    return write_tiny_datasets(tmp_path_factory.mktemp("datasets"))


@pytest.fixture(scope="session")
def tiny_models(tiny_datasets, tmp_path_factory) -> tuple[Path, Path]:
    """(models_dir, artifact dir) of one model trained on the tiny datasets."""
    from classifiers.train import train

    models = tmp_path_factory.mktemp("tiny-models")
    return models, train(tiny_datasets, models, n_jobs=1)


@pytest.fixture(scope="session")
def full_model_dir(trained_models_dir) -> Path:
    """The artifact directory of that model."""
    from classifiers.service import current_version

    return trained_models_dir / current_version(trained_models_dir)


@pytest.fixture(scope="session")
def full_model(full_model_dir):
    from classifiers.model import Classifier

    return Classifier.load(full_model_dir)
