"""Pure content analytics: usage, deal influence, win-rate lift, freshness and the bottom 20%.

Imports no Django. Everything takes columnar NumPy arrays in which assets, leads, reps and
deals are dense indexes (0..n-1) chosen by the adapter (`content/analytics.py`), and times are
int64 epoch seconds. `report.asset_report` joins the parts; the modules are:

- `usage`: per-asset counts of what reps and buyers did, distinct reps and leads, last use;
- `influence`: which deals an asset touched before they closed, pipeline and won revenue;
- `lift`: win rate of deals that used an asset against comparable deals that did not,
  stratified, with a Newcombe interval (docs/decisions/ on content influence and lift);
- `review`: freshness against the review-by date and the bottom 20% with a reason each.

The library's own pure parts sit beside them:

- `search`: search-box queries (rendered for FTS5 and PostgreSQL), snippets, relevance ×
  effectiveness;
- `duplicates`: MinHash near duplicates (reps' re-created material);
- `personas`: a lead's buying persona from its job title.
"""
