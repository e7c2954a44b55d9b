"""Lead scoring arithmetic: fit grade, engagement with decay, the MQL rule, the predictive models.

Pure: NumPy, Polars, scikit-learn and LightGBM only, no Django. The adapters in `services.py`
read the database into arrays, call these functions and write the results back; the
definitions app's what-if simulation calls the same functions on a draft contract.

Modules: `rules` (grade, engagement, MQL rule), `encoding` (lead columns → matrix), `additive`
(the interpretable additive model), `explained`, `boosted`, `linear`, `bayes` (the other
candidates, explained per feature), `choice` (choosing among them by inner cross-validation),
`reasons` (top factors and their text), `columns` (which columns of an export to leave out),
`evaluation` (judging a scorer on a CSV). This package re-exports their public names.
"""

from closedloop.scoring.engine import choice, common
from closedloop.scoring.engine.additive import ALGORITHM, ConversionModel
from closedloop.scoring.engine.boosted import BoostedModel
from closedloop.scoring.engine.choice import (
    AUTO_TITLE,
    CANDIDATES,
    TIE_MARGIN,
    AutoModel,
    choose,
    inner_predictions,
)
from closedloop.scoring.engine.columns import DroppedColumn, screen_columns
from closedloop.scoring.engine.common import EXPLAIN_BLOCK, SMALL, blocks, per_distinct
from closedloop.scoring.engine.encoding import PLACEHOLDERS, FeatureEncoder, clean_text
from closedloop.scoring.engine.evaluation import (
    FrequencyNaiveBayes,
    cross_validate,
    evaluate_csv_frame,
    outcome_from_values,
    read_csv_export,
)
from closedloop.scoring.engine.explained import ExplainedModel, FactorVocabulary, explain
from closedloop.scoring.engine.reasons import (
    _reasons_by_columns,
    reasons_json,
    reasons_series,
    top_factors,
)
from closedloop.scoring.engine.rules import (
    GRADES,
    criterion_matches,
    decay_weights,
    engagement_by_group,
    engagement_scores,
    fit_matches,
    fit_points,
    grade_rank,
    grade_ranks_from_points,
    grades_from_points,
    meets_mql_rule,
)
from closedloop.scoring.engine.tables import LogisticModel, NaiveBayesModel

__all__ = [
    "ALGORITHM",
    "AUTO_TITLE",
    "CANDIDATES",
    "TIE_MARGIN",
    "AutoModel",
    "BoostedModel",
    "DroppedColumn",
    "ExplainedModel",
    "FactorVocabulary",
    "LogisticModel",
    "NaiveBayesModel",
    "choose",
    "explain",
    "inner_predictions",
    "screen_columns",
    "EXPLAIN_BLOCK",
    "GRADES",
    "PLACEHOLDERS",
    "SMALL",
    "ConversionModel",
    "FeatureEncoder",
    "FrequencyNaiveBayes",
    "_reasons_by_columns",
    "blocks",
    "clean_text",
    "choice",
    "common",
    "criterion_matches",
    "cross_validate",
    "decay_weights",
    "engagement_by_group",
    "engagement_scores",
    "evaluate_csv_frame",
    "fit_matches",
    "fit_points",
    "grade_rank",
    "grade_ranks_from_points",
    "grades_from_points",
    "meets_mql_rule",
    "outcome_from_values",
    "per_distinct",
    "read_csv_export",
    "reasons_json",
    "reasons_series",
    "top_factors",
]
