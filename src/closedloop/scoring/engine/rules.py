"""Rules scoring: fit grade from the ICP, engagement with decay and caps, the MQL rule.

This is the contract's own arithmetic, so it lives with the contract in
`closedloop.definitions.scorecard` (the what-if simulation replays it too, and definitions sits
below scoring); the scorer's modules import it from here.
"""

from closedloop.definitions.scorecard import criterion_matches as criterion_matches
from closedloop.definitions.scorecard import decay_weights as decay_weights
from closedloop.definitions.scorecard import engagement_by_group as engagement_by_group
from closedloop.definitions.scorecard import engagement_scores as engagement_scores
from closedloop.definitions.scorecard import fit_matches as fit_matches
from closedloop.definitions.scorecard import fit_points as fit_points
from closedloop.definitions.scorecard import grade_rank as grade_rank
from closedloop.definitions.scorecard import grade_ranks_from_points as grade_ranks_from_points
from closedloop.definitions.scorecard import grades_from_points as grades_from_points
from closedloop.definitions.scorecard import meets_mql_rule as meets_mql_rule
from closedloop.vocabulary import GRADES as GRADES
