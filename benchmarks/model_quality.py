"""Quality of the predictive scorer on public lead and campaign data, beside the references.

`closedloop bench model_quality [-s data_dir=DIR] [-s only=FILE] [-s folds=5]` runs every data
set of DATASETS it finds in `data_dir` (default: ./data, the repository's data/, or the shared
data folder next to the repository). Each is read as shipped (encoding, byte-order mark and
delimiter detected) and judged by 5-fold stratified cross-validation, seed 0, the same outer
folds for every scorer:

- ours: the automatic model choice (`evaluate_csv_frame`, nested: the choice is made inside
  each outer training fold);
- references on the same folds: naive Bayes over value counts one lead at a time (Odoo's
  method), LightGBM with the library's default settings, and a one-hot logistic regression
  (numbers standardised, missing values imputed), both on the same encoded columns.

No setting differs between data sets except which columns each file asks to leave out.
"""

from __future__ import annotations

import time
from pathlib import Path

XEDU_LEAKING = [
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Last Activity",
    "Last Notable Activity",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
]
# File → how to read its outcome, and the columns to leave out (ids, leaks, bookkeeping).
DATASETS = {
    "x_education_leads.csv": {
        "target": "Converted",
        "id_column": "Prospect ID",
        "drop": ["Lead Number", *XEDU_LEAKING],
        "target_auc": 0.875,
    },
    "marketing_campaign.csv": {
        "target": "Response",
        "id_column": None,
        "drop": ["ID", "Z_CostContact", "Z_Revenue", "Dt_Customer"],
        "target_auc": 0.893,
    },
}


def _data_dir() -> Path:
    here = Path(__file__).resolve().parent
    # ../shared/data next to the repository (or next to a folder holding it)
    shared = [parent / "shared" / "data" for parent in here.parents[1:]]
    for folder in (Path.cwd() / "data", here.parent / "data", *shared):
        if any((folder / name).is_file() for name in DATASETS):
            return folder
    raise FileNotFoundError("no known data set in ./data; pass -s data_dir=DIR")


def run(data_dir: str = "", only: str = "", folds: str = "5") -> dict:
    folder = Path(data_dir) if data_dir else _data_dir()
    results = {}
    for name, settings in DATASETS.items():
        if (folder / name).is_file() and (not only or only == name):
            results[name] = judge(folder / name, settings, folds=int(folds))
    return {
        "data_sets": results,
        "meets_targets": all(r["meets_target"] for r in results.values()),
    }


def judge(path: Path, settings: dict, *, folds: int) -> dict:
    from closedloop.scoring.engine import evaluate_csv_frame, read_csv_export

    fmt, frame = read_csv_export(path.read_bytes())
    started = time.perf_counter()
    result = evaluate_csv_frame(
        frame,
        target=settings["target"],
        id_column=settings["id_column"],
        drop=settings["drop"],
        folds=folds,
        seed=0,
        reference=True,
    )
    seconds = round(time.perf_counter() - started, 1)
    features = frame.drop(
        [settings["target"], *([settings["id_column"]] if settings["id_column"] else [])]
        + settings["drop"]
        + [c["column"] for c in result["screened"]]
    )
    references = {"naive Bayes over value counts (Odoo)": result["reference"]["auc"]}
    references.update(_library_references(features, frame[settings["target"]], folds=folds))
    return {
        "rows": result["rows"],
        "format": {"delimiter": fmt.delimiter, "bom": fmt.bom, "encoding": fmt.encoding},
        "dropped": result["dropped_as_asked"],
        "screened": result["screened"],
        "auc": result["auc"],
        "auc_fold_mean": result["auc_fold_mean"],
        "auc_fold_std": result["auc_fold_std"],
        "brier": result["brier"],
        "chosen_per_fold": result["chosen_per_fold"],
        "inner_auc_per_fold": result["inner_auc_per_fold"],
        "references_auc": references,
        "target_auc": settings["target_auc"],
        "meets_target": result["auc"] >= settings["target_auc"],
        "seconds": seconds,
    }


def _library_references(features, target, *, folds: int) -> dict[str, float]:
    from closedloop.scoring.engine import cross_validate, outcome_from_values

    outcome = outcome_from_values(target)
    return {
        name: cross_validate(features, outcome, folds=folds, seed=0, make_scorer=make)["auc"]
        for name, make in (
            ("LightGBM, library defaults", DefaultLightGBM),
            ("logistic regression, one-hot", OneHotLogistic),
        )
    }


class DefaultLightGBM:
    """LightGBM with no setting changed, on the encoded columns (categoricals as categories)."""

    def fit(self, frame, outcome):
        import lightgbm as lgb

        from closedloop.scoring.engine import FeatureEncoder

        self.encoder = FeatureEncoder().fit(frame)
        categorical = [int(j) for j in self.encoder.categorical_mask.nonzero()[0]]
        self.model = lgb.LGBMClassifier(verbose=-1, random_state=0, n_jobs=1)
        self.model.fit(
            self.encoder.transform(frame), outcome, categorical_feature=categorical or "auto"
        )
        return self

    def predict(self, frame):
        return self.model.predict_proba(self.encoder.transform(frame))[:, 1]


class OneHotLogistic:
    """Logistic regression (scikit-learn defaults) on one-hot categoricals and scaled numbers."""

    def fit(self, frame, outcome):
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        from closedloop.scoring.engine import FeatureEncoder

        self.encoder = FeatureEncoder().fit(frame)
        mask = self.encoder.categorical_mask
        columns = ColumnTransformer(
            [
                (
                    "categories",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value=-1),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    mask.nonzero()[0],
                ),
                (
                    "numbers",
                    make_pipeline(
                        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                    ),
                    (~mask).nonzero()[0],
                ),
            ]
        )
        self.model = make_pipeline(columns, LogisticRegression(max_iter=2000))
        self.model.fit(self.encoder.transform(frame), outcome)
        return self

    def predict(self, frame):
        return self.model.predict_proba(self.encoder.transform(frame))[:, 1]
