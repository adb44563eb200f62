"""Shared fixtures of the cost-model tests: synthetic training tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from greenopt.models.features import CANDIDATE_FEATURE_NAMES
from greenopt.models.table import TrainingRow, TrainingTable

FAMILIES = ("ai", "fluid", "image", "linalg")


def synthetic_table(n_kernels: int = 4, seed: int = 0) -> TrainingTable:
    """A table whose log ratio is a known function of two features, plus small noise."""
    rng = np.random.default_rng(seed)
    rows: list[TrainingRow] = []
    names = list(CANDIDATE_FEATURE_NAMES)
    for family in FAMILIES:
        for k in range(n_kernels):
            for size in ("small", "medium", "large"):
                for c, passes in enumerate((["vectorize"], ["jit"], ["loop-fusion"])):
                    feats = {n: float(rng.random()) for n in names}
                    feats["delta_interp_ops_w"] = -3.0 * rng.random()
                    feats["pass_jit"] = 1.0 if passes == ["jit"] else 0.0
                    log_ratio = 0.8 * feats["delta_interp_ops_w"] - 0.5 * feats["pass_jit"]
                    log_ratio += 0.01 * rng.standard_normal()
                    rows.append(
                        TrainingRow(
                            kernel=f"{family}/k{k}",
                            family=family,
                            size=size,
                            function=f"k{k}",
                            candidate=f"c{c}",
                            passes=passes,
                            recipe="+".join(passes),
                            status="measured",
                            meter="estimate",
                            measured=False,
                            machine_id="test",
                            ratio=math.exp(log_ratio),
                            ci95=(math.exp(log_ratio) * 0.98, math.exp(log_ratio) * 1.02),
                            features=feats,
                        )
                    )
    return TrainingTable(rows=rows, feature_names=names, machine={"machine_id": "test"})


@pytest.fixture
def table() -> TrainingTable:
    """A small synthetic training table (4 families x 4 kernels x 3 sizes x 3 candidates)."""
    return synthetic_table()


@pytest.fixture(scope="session")
def built_model(tmp_path_factory) -> str:
    """Path of a model document built from the synthetic table (built once per session)."""
    from greenopt.models.training import build_model, save_model

    path = tmp_path_factory.mktemp("model") / "cost_model.json"
    save_model(build_model(synthetic_table()), path)
    return str(path)
